package pgarchive

import (
	"context"
	"fmt"
)

// MessageRows counts the stored messages row by row, where Stats adds up
// the channels' counters: townhall migrate checks that both agree with
// the database it copied.
func (a *Archive) MessageRows(ctx context.Context) (int, error) {
	var n int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM archive_messages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgarchive: count messages: %w", err)
	}
	return n, nil
}
