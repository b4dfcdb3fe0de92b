package sqlitearchive

import (
	"context"
	"fmt"
)

// EachRemoved calls fn for every message removed from the archive (at
// someone's request, or deleted in Slack), by channel and ts: the
// tombstones that keep them out. townhall migrate copies them with
// Remove, so that no later import brings them back.
func (a *Archive) EachRemoved(ctx context.Context, fn func(channel, ts string) error) error {
	rows, err := a.read.QueryContext(ctx, `SELECT channel, ts FROM archive_removed ORDER BY channel, ts`)
	if err != nil {
		return fmt.Errorf("sqlitearchive: read removals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var channel, ts string
		if err := rows.Scan(&channel, &ts); err != nil {
			return fmt.Errorf("sqlitearchive: read removals: %w", err)
		}
		if err := fn(channel, ts); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitearchive: read removals: %w", err)
	}
	return nil
}

// States returns every value kept with SetState, by key.
func (a *Archive) States(ctx context.Context) (map[string]string, error) {
	rows, err := a.read.QueryContext(ctx, `SELECT key, value FROM archive_state`)
	if err != nil {
		return nil, fmt.Errorf("sqlitearchive: read state: %w", err)
	}
	defer rows.Close()
	states := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("sqlitearchive: read state: %w", err)
		}
		states[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitearchive: read state: %w", err)
	}
	return states, nil
}
