package postgres

import (
	"context"

	"github.com/townhall/townhall/store"
)

// JournalInsert implements store.Driver: one INSERT of every entry, as
// arrays unnested, whatever their number (a group commit).
func (d *Driver) JournalInsert(ctx context.Context, p store.JournalInsertParams) error {
	n := len(p.Entries)
	ids, owners, received := make([]string, n), make([]string, n), make([]any, n)
	envelopes := make([][]byte, n)
	for i, e := range p.Entries {
		ids[i], owners[i], envelopes[i], received[i] = e.ID, e.Owner, e.Envelope, e.ReceivedAt
	}
	_, err := d.pool.Exec(ctx, `
		INSERT INTO journal (id, owner, envelope, received_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[])
		ON CONFLICT (id) DO NOTHING`,
		ids, owners, envelopes, received)
	return err
}

// JournalMarkDone implements store.Driver.
func (d *Driver) JournalMarkDone(ctx context.Context, p store.JournalMarkDoneParams) error {
	_, err := d.pool.Exec(ctx, `UPDATE journal SET done_at = $2 WHERE id = ANY($1) AND done_at IS NULL`, p.IDs, p.Now)
	return err
}

// JournalTakeOver implements store.Driver: the rows are picked and locked
// with FOR UPDATE SKIP LOCKED, so concurrent takers split them; a row a
// taker waited on would be re-checked against its new (live) owner.
func (d *Driver) JournalTakeOver(ctx context.Context, p store.JournalTakeOverParams) ([]store.JournalEntry, error) {
	rows, err := d.pool.Query(ctx, `
		WITH picked AS (
			SELECT j.id, j.owner FROM journal j
			WHERE j.done_at IS NULL AND j.owner <> $1
				AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.id = j.owner AND r.last_beat >= $2)
			ORDER BY j.received_at
			LIMIT $4
			FOR UPDATE OF j SKIP LOCKED
		)
		UPDATE journal j SET owner = $1, taken_at = $3
		FROM picked
		WHERE j.id = picked.id
		RETURNING j.id, picked.owner, j.envelope, j.received_at`,
		p.Owner, p.SeenSince, p.Now, p.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.JournalEntry
	for rows.Next() {
		var e store.JournalEntry
		if err := rows.Scan(&e.ID, &e.Owner, &e.Envelope, &e.ReceivedAt); err != nil {
			return nil, err
		}
		e.ReceivedAt = e.ReceivedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// JournalPurge implements store.Driver.
func (d *Driver) JournalPurge(ctx context.Context, p store.JournalPurgeParams) (int, error) {
	return d.delete(ctx, `
		DELETE FROM journal
		WHERE done_at < $1 OR (done_at IS NULL AND received_at < $2)`,
		p.DoneBefore, p.ReceivedBefore)
}
