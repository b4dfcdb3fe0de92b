package postgres

import (
	"context"
	"time"

	"github.com/townhall/townhall/store"
)

// ReplicaPut implements store.Driver.
func (d *Driver) ReplicaPut(ctx context.Context, p store.ReplicaPutParams) error {
	r := p.Replica
	var since *time.Time
	if !r.ConnectedSince.IsZero() {
		since = &r.ConnectedSince
	}
	_, err := d.pool.Exec(ctx, `
		INSERT INTO replicas (id, host, version, state, started_at, connected_since, last_beat)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET host = excluded.host, version = excluded.version,
			state = excluded.state, started_at = excluded.started_at,
			connected_since = excluded.connected_since, last_beat = excluded.last_beat`,
		r.ID, r.Host, r.Version, r.State, r.StartedAt, since, r.LastBeat)
	return err
}

// ReplicaList implements store.Driver.
func (d *Driver) ReplicaList(ctx context.Context, p store.ReplicaListParams) ([]store.Replica, error) {
	rows, err := d.pool.Query(ctx, `
		SELECT id, host, version, state, started_at, connected_since, last_beat
		FROM replicas WHERE last_beat >= $1 ORDER BY host, id`, p.SeenSince)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Replica
	for rows.Next() {
		var (
			r     store.Replica
			since *time.Time
		)
		if err := rows.Scan(&r.ID, &r.Host, &r.Version, &r.State, &r.StartedAt, &since, &r.LastBeat); err != nil {
			return nil, err
		}
		r.StartedAt, r.LastBeat = r.StartedAt.UTC(), r.LastBeat.UTC()
		if since != nil {
			r.ConnectedSince = since.UTC()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplicaDelete implements store.Driver.
func (d *Driver) ReplicaDelete(ctx context.Context, p store.ReplicaDeleteParams) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM replicas WHERE id = $1`, p.ID)
	return err
}

// ReplicaPurge implements store.Driver.
func (d *Driver) ReplicaPurge(ctx context.Context, p store.ReplicaPurgeParams) (int, error) {
	return d.delete(ctx, `DELETE FROM replicas WHERE last_beat < $1`, p.SeenBefore)
}
