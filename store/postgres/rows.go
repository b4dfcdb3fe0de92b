package postgres

import (
	"context"
	"fmt"
)

// Tables are the store's tables.
var Tables = []string{"claims", "cursors", "cache", "settings"}

// Count returns how many rows each of Tables holds, for checking a copy
// of another database (townhall migrate).
func (d *Driver) Count(ctx context.Context) (map[string]int, error) {
	counts := make(map[string]int, len(Tables))
	for _, t := range Tables {
		var n int
		if err := d.pool.QueryRow(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("postgres: count %s: %w", t, err)
		}
		counts[t] = n
	}
	return counts, nil
}
