package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/townhall/townhall/store"
)

// Tables are the store's tables, in the order a copy of the database
// (townhall migrate) writes them.
var Tables = []string{"claims", "cursors", "cache", "settings"}

// Claim is a claims row as stored, for copying a database.
type Claim struct {
	Key         string
	ClaimedAt   time.Time
	LeaseUntil  time.Time
	ConfirmedAt time.Time // zero while unconfirmed
}

// EachClaim calls fn for every claim, by key, as stored: townhall migrate
// copies them into another database. It reads from one snapshot.
func (d *Driver) EachClaim(ctx context.Context, fn func(Claim) error) error {
	return d.each(ctx, "claims", `SELECT key, claimed_at, lease_until, confirmed_at FROM claims ORDER BY key`,
		func(rows *sql.Rows) error {
			var c Claim
			var claimed, until int64
			var confirmed sql.NullInt64
			if err := rows.Scan(&c.Key, &claimed, &until, &confirmed); err != nil {
				return err
			}
			c.ClaimedAt, c.LeaseUntil = fromMicros(claimed), fromMicros(until)
			if confirmed.Valid {
				c.ConfirmedAt = fromMicros(confirmed.Int64)
			}
			return fn(c)
		})
}

// EachCursor calls fn for every cursor, by name, with its value and
// update time as stored.
func (d *Driver) EachCursor(ctx context.Context, fn func(store.CursorSetParams) error) error {
	return d.each(ctx, "cursors", `SELECT name, value, updated_at FROM cursors ORDER BY name`, func(rows *sql.Rows) error {
		var p store.CursorSetParams
		var at int64
		if err := rows.Scan(&p.Name, &p.Value, &at); err != nil {
			return err
		}
		p.Now = fromMicros(at)
		return fn(p)
	})
}

// EachCache calls fn for every cache entry, expired or not, by key.
func (d *Driver) EachCache(ctx context.Context, fn func(store.CachePutParams) error) error {
	return d.each(ctx, "cache", `SELECT key, value, expires_at FROM cache ORDER BY key`, func(rows *sql.Rows) error {
		var p store.CachePutParams
		var at int64
		if err := rows.Scan(&p.Key, &p.Value, &at); err != nil {
			return err
		}
		if p.Value == nil {
			p.Value = []byte{}
		}
		p.ExpiresAt = fromMicros(at)
		return fn(p)
	})
}

// EachSetting calls fn for every setting, by key, with its value and
// update time as stored.
func (d *Driver) EachSetting(ctx context.Context, fn func(store.SettingSetParams) error) error {
	return d.each(ctx, "settings", `SELECT key, value, updated_at FROM settings ORDER BY key`, func(rows *sql.Rows) error {
		var p store.SettingSetParams
		var at int64
		if err := rows.Scan(&p.Key, &p.Value, &at); err != nil {
			return err
		}
		p.Now = fromMicros(at)
		return fn(p)
	})
}

// Count returns how many rows each of Tables holds.
func (d *Driver) Count(ctx context.Context) (map[string]int, error) {
	counts := make(map[string]int, len(Tables))
	for _, t := range Tables {
		var n int
		if err := d.read.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("sqlite: count %s: %w", t, err)
		}
		counts[t] = n
	}
	return counts, nil
}

// each runs query on the read pool and calls scan for each row.
func (d *Driver) each(ctx context.Context, table, query string, scan func(*sql.Rows) error) error {
	rows, err := d.read.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("sqlite: read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read %s: %w", table, err)
	}
	return nil
}
