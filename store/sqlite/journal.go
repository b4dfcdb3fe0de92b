package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/townhall/townhall/store"
)

// JournalInsert implements store.Driver: one INSERT of every entry and
// an upsert per claim, in one transaction on the writer. townhall keeps no
// journal on SQLite (one process per file: when it dies no replica is
// left to replay), but the driver passes the same suite.
func (d *Driver) JournalInsert(ctx context.Context, p store.JournalInsertParams) ([]string, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO journal (id, owner, envelope, received_at) VALUES `)
	args := make([]any, 0, 4*len(p.Entries))
	for i, e := range p.Entries {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?)")
		args = append(args, e.ID, e.Owner, e.Envelope, micros(e.ReceivedAt))
	}
	q.WriteString(` ON CONFLICT (id) DO NOTHING`)
	var acquired []string
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		for _, c := range p.Claims {
			ok, err := claimAcquire(ctx, tx, c.Key, c.Owner, p.Now, p.Until, p.OwnerDeadBefore)
			if err != nil {
				return err
			}
			if ok {
				acquired = append(acquired, c.Key)
			}
		}
		return nil
	})
	return acquired, err
}

// writeTx runs fn in a transaction on the writer, committed if fn
// succeeds and rolled back if not.
func (d *Driver) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// JournalDelete implements store.Driver: one transaction on the writer.
func (d *Driver) JournalDelete(ctx context.Context, p store.JournalDeleteParams) error {
	return d.writeTx(ctx, func(tx *sql.Tx) error {
		if len(p.IDs) > 0 {
			args := make([]any, len(p.IDs))
			for i, id := range p.IDs {
				args[i] = id
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM journal WHERE id IN (`+placeholders(len(p.IDs))+`)`, args...); err != nil {
				return err
			}
		}
		for _, k := range p.Confirm {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO claims (key, claimed_at, lease_until, confirmed_at)
				VALUES (:key, :now, :now, :now)
				ON CONFLICT (key) DO UPDATE
					SET confirmed_at = coalesce(claims.confirmed_at, excluded.confirmed_at)`,
				sql.Named("key", k), sql.Named("now", micros(p.Now))); err != nil {
				return err
			}
		}
		return nil
	})
}

// JournalTakeOver implements store.Driver: one transaction on the single
// writer connection, which serialises takers.
func (d *Driver) JournalTakeOver(ctx context.Context, p store.JournalTakeOverParams) ([]store.JournalEntry, error) {
	var out []store.JournalEntry
	err := d.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = takeOver(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// takeOver is JournalTakeOver's work in tx.
func takeOver(ctx context.Context, tx *sql.Tx, p store.JournalTakeOverParams) ([]store.JournalEntry, error) {
	rows, err := tx.QueryContext(ctx, `
		SELECT j.id, j.owner, j.envelope, j.received_at FROM journal j
		WHERE j.owner <> :owner
			AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.id = j.owner AND r.last_beat >= :since)
		ORDER BY j.received_at
		LIMIT :limit`,
		sql.Named("owner", p.Owner), sql.Named("since", micros(p.SeenSince)), sql.Named("limit", p.Limit))
	if err != nil {
		return nil, err
	}
	var out []store.JournalEntry
	for rows.Next() {
		var (
			e        store.JournalEntry
			received int64
		)
		if err := rows.Scan(&e.ID, &e.Owner, &e.Envelope, &received); err != nil {
			rows.Close()
			return nil, err
		}
		e.ReceivedAt = fromMicros(received)
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, e := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE journal SET owner = :owner, taken_at = :now WHERE id = :id`,
			sql.Named("owner", p.Owner), sql.Named("now", micros(p.Now)), sql.Named("id", e.ID)); err != nil {
			return nil, fmt.Errorf("take over %s: %w", e.ID, err)
		}
	}
	return out, nil
}

// JournalPurge implements store.Driver.
func (d *Driver) JournalPurge(ctx context.Context, p store.JournalPurgeParams) (int, error) {
	return d.delete(ctx, `DELETE FROM journal WHERE received_at < :received`,
		sql.Named("received", micros(p.ReceivedBefore)))
}

// placeholders is n question marks separated by commas.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
