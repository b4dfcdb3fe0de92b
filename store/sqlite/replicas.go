package sqlite

import (
	"context"
	"database/sql"

	"github.com/townhall/townhall/store"
)

// ReplicaPut implements store.Driver. With one process per database file
// there is one row, but the table is the same as PostgreSQL's.
func (d *Driver) ReplicaPut(ctx context.Context, p store.ReplicaPutParams) error {
	r := p.Replica
	var since sql.NullInt64
	if !r.ConnectedSince.IsZero() {
		since = sql.NullInt64{Int64: micros(r.ConnectedSince), Valid: true}
	}
	_, err := d.write.ExecContext(ctx, `
		INSERT INTO replicas (id, host, version, state, started_at, connected_since, last_beat)
		VALUES (:id, :host, :version, :state, :started, :since, :beat)
		ON CONFLICT (id) DO UPDATE SET host = excluded.host, version = excluded.version,
			state = excluded.state, started_at = excluded.started_at,
			connected_since = excluded.connected_since, last_beat = excluded.last_beat`,
		sql.Named("id", r.ID), sql.Named("host", r.Host), sql.Named("version", r.Version),
		sql.Named("state", r.State), sql.Named("started", micros(r.StartedAt)),
		sql.Named("since", since), sql.Named("beat", micros(r.LastBeat)))
	return err
}

// ReplicaList implements store.Driver.
func (d *Driver) ReplicaList(ctx context.Context, p store.ReplicaListParams) ([]store.Replica, error) {
	rows, err := d.read.QueryContext(ctx, `
		SELECT id, host, version, state, started_at, connected_since, last_beat
		FROM replicas WHERE last_beat >= :since ORDER BY host, id`,
		sql.Named("since", micros(p.SeenSince)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Replica
	for rows.Next() {
		var (
			r              store.Replica
			started, beat  int64
			connectedSince sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Host, &r.Version, &r.State, &started, &connectedSince, &beat); err != nil {
			return nil, err
		}
		r.StartedAt, r.LastBeat = fromMicros(started), fromMicros(beat)
		if connectedSince.Valid {
			r.ConnectedSince = fromMicros(connectedSince.Int64)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReplicaDelete implements store.Driver.
func (d *Driver) ReplicaDelete(ctx context.Context, p store.ReplicaDeleteParams) error {
	_, err := d.write.ExecContext(ctx, `DELETE FROM replicas WHERE id = :id`, sql.Named("id", p.ID))
	return err
}

// ReplicaPurge implements store.Driver.
func (d *Driver) ReplicaPurge(ctx context.Context, p store.ReplicaPurgeParams) (int, error) {
	return d.delete(ctx, `DELETE FROM replicas WHERE last_beat < :before`, sql.Named("before", micros(p.SeenBefore)))
}
