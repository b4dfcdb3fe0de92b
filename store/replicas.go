package store

import (
	"context"
	"fmt"
	"time"
)

// Replicas are the running townhall processes that share this database,
// each known by the heartbeat row it rewrites every few seconds, so that
// `/townhall status` on any replica can list them all. A replica that stops
// cleanly deletes its row; one that dies stops beating and drops out of
// the list once its last heartbeat is older than the window asked for.
type Replicas interface {
	// Beat records r as alive now (r.LastBeat is set by the Store),
	// replacing the replica's earlier heartbeat.
	Beat(ctx context.Context, r Replica) error
	// ListReplicas returns the replicas whose last heartbeat is within
	// window of now, ordered by host, then ID.
	ListReplicas(ctx context.Context, window time.Duration) ([]Replica, error)
	// Leave deletes the heartbeat of the replica id, as it stops.
	Leave(ctx context.Context, id string) error
	// PurgeReplicas deletes heartbeats older than olderThan (replicas that
	// died without leaving) and returns how many it deleted.
	PurgeReplicas(ctx context.Context, olderThan time.Time) (int, error)
}

var _ Replicas = (*Store)(nil)

// Replica is one townhall process as its heartbeat records it.
type Replica struct {
	ID      string // unique per process: host, pid and a random suffix
	Host    string // the machine's (or container's) host name
	Version string // the townhall build
	// StartedAt is when the process started.
	StartedAt time.Time
	// ConnectedSince is when its current Socket Mode connection opened;
	// zero while it is not connected.
	ConnectedSince time.Time
	// State is a short operator-facing note on its Slack connection, such
	// as "connected" or "refused by Slack (too_many_websockets), retrying".
	State string
	// LastBeat is when the heartbeat was written; set by Beat.
	LastBeat time.Time
}

// ReplicaDriver is the part of a Driver that keeps heartbeats.
type ReplicaDriver interface {
	// ReplicaPut stores p.Replica under its ID, replacing any earlier row.
	ReplicaPut(ctx context.Context, p ReplicaPutParams) error
	// ReplicaList returns the replicas whose LastBeat is at or after
	// p.SeenSince, ordered by Host, then ID.
	ReplicaList(ctx context.Context, p ReplicaListParams) ([]Replica, error)
	// ReplicaDelete deletes p.ID's row; a missing row is not an error.
	ReplicaDelete(ctx context.Context, p ReplicaDeleteParams) error
	// ReplicaPurge deletes the rows whose LastBeat is before p.SeenBefore
	// and returns how many it deleted.
	ReplicaPurge(ctx context.Context, p ReplicaPurgeParams) (int, error)
}

// ReplicaPutParams are the arguments of Driver.ReplicaPut. Its times are
// at store.Precision; a zero ConnectedSince means "not connected" and must
// come back zero.
type ReplicaPutParams struct {
	Replica Replica
}

// ReplicaListParams are the arguments of Driver.ReplicaList.
type ReplicaListParams struct {
	SeenSince time.Time
}

// ReplicaDeleteParams are the arguments of Driver.ReplicaDelete.
type ReplicaDeleteParams struct {
	ID string
}

// ReplicaPurgeParams are the arguments of Driver.ReplicaPurge.
type ReplicaPurgeParams struct {
	SeenBefore time.Time
}

// Beat implements Replicas.
func (s *Store) Beat(ctx context.Context, r Replica) error {
	if r.ID == "" {
		return fmt.Errorf("store: replica heartbeat: %w", ErrEmptyKey)
	}
	r.LastBeat = s.clock()
	r.StartedAt = r.StartedAt.UTC().Truncate(Precision)
	if !r.ConnectedSince.IsZero() {
		r.ConnectedSince = r.ConnectedSince.UTC().Truncate(Precision)
	}
	if err := s.d.ReplicaPut(ctx, ReplicaPutParams{Replica: r}); err != nil {
		return fmt.Errorf("store: replica %q heartbeat: %w", r.ID, err)
	}
	return nil
}

// ListReplicas implements Replicas.
func (s *Store) ListReplicas(ctx context.Context, window time.Duration) ([]Replica, error) {
	rs, err := s.d.ReplicaList(ctx, ReplicaListParams{SeenSince: s.clock().Add(-window)})
	if err != nil {
		return nil, fmt.Errorf("store: list replicas: %w", err)
	}
	return rs, nil
}

// Leave implements Replicas.
func (s *Store) Leave(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("store: replica leave: %w", ErrEmptyKey)
	}
	if err := s.d.ReplicaDelete(ctx, ReplicaDeleteParams{ID: id}); err != nil {
		return fmt.Errorf("store: replica %q leave: %w", id, err)
	}
	return nil
}

// PurgeReplicas implements Replicas.
func (s *Store) PurgeReplicas(ctx context.Context, olderThan time.Time) (int, error) {
	n, err := s.d.ReplicaPurge(ctx, ReplicaPurgeParams{SeenBefore: olderThan.Truncate(Precision)})
	if err != nil {
		return 0, fmt.Errorf("store: purge replicas older than %s: %w", olderThan.Format(time.RFC3339), err)
	}
	return n, nil
}
