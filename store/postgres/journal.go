package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/store"
)

// The journal's writes commit without waiting for the WAL to reach the
// disk (synchronous_commit off, for the sessions of the journal's own pool
// only). A committed row is at once visible to every replica, and survives
// the replica that wrote it, which is what the journal is for; only a
// crash of PostgreSQL itself within a moment of the commit (3 ×
// wal_writer_delay, 600 ms by default) could lose it, and then only a
// request whose replica died in that same moment would be lost. In
// exchange an acknowledgement waits for one round-trip and not for a disk
// flush shared with every claim.

// JournalInsert implements store.Driver: one statement, inserting every
// entry and acquiring every claim as arrays unnested, whatever their
// number (a group commit), on the journal's own connections (so the
// claims are committed asynchronously too; see JournalDelete for what a
// crash of the database then costs). Rows are written in key order, so
// two replicas' batches that share keys (a redelivery to each) lock them
// in the same order and cannot deadlock.
func (d *Driver) JournalInsert(ctx context.Context, p store.JournalInsertParams) ([]string, error) {
	n := len(p.Entries)
	ids, owners, received := make([]string, n), make([]string, n), make([]any, n)
	envelopes := make([][]byte, n)
	for i, e := range p.Entries {
		ids[i], owners[i], envelopes[i], received[i] = e.ID, e.Owner, e.Envelope, e.ReceivedAt
	}
	keys, claimOwners := make([]string, len(p.Claims)), make([]string, len(p.Claims))
	for i, c := range p.Claims {
		keys[i], claimOwners[i] = c.Key, c.Owner
	}
	rows, err := d.journal.Query(ctx, `
		WITH entries AS (
			INSERT INTO journal (id, owner, envelope, received_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[]) AS e(id)
			ORDER BY id
			ON CONFLICT (id) DO NOTHING
		)
		INSERT INTO claims (key, claimed_at, lease_until, confirmed_at, owner)
		SELECT k, $7::timestamptz, $8::timestamptz, NULL, o FROM unnest($5::text[], $6::text[]) AS c(k, o)
		ORDER BY k
		ON CONFLICT (key) DO UPDATE
			SET claimed_at = excluded.claimed_at, lease_until = excluded.lease_until, owner = excluded.owner
			WHERE claims.confirmed_at IS NULL
				AND (claims.lease_until <= excluded.claimed_at OR (`+deadOwner("claims", "excluded.owner", "$9::timestamptz")+`))
		RETURNING key`,
		ids, owners, envelopes, received, keys, claimOwners, p.Now, p.Until, p.OwnerDeadBefore)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// JournalDelete implements store.Driver: one statement on the journal's
// connections, so its confirmations are committed asynchronously too. A
// crash of the database that loses them loses the deletions with them:
// the entries are replayed only if their owner dies, and a replay of a
// request that was answered then answers it again; a lost confirmation
// alone lets a later redelivery through once its lease ends, as if the
// handler had died.
func (d *Driver) JournalDelete(ctx context.Context, p store.JournalDeleteParams) error {
	_, err := d.journal.Exec(ctx, `
		WITH confirmed AS (
			INSERT INTO claims (key, claimed_at, lease_until, confirmed_at)
			SELECT k, $3, $3, $3 FROM unnest($2::text[]) AS k
			ORDER BY k
			ON CONFLICT (key) DO UPDATE
				SET confirmed_at = coalesce(claims.confirmed_at, excluded.confirmed_at)
		)
		DELETE FROM journal WHERE id = ANY($1)`,
		p.IDs, p.Confirm, p.Now)
	return err
}

// JournalTakeOver implements store.Driver: a compare-and-set. The
// candidates are read without locks, and each is updated only if it still
// has the owner it was read with: of concurrent takers, the first to
// update a row wins it, and the others, which wait on its row lock and
// then see the new owner (PostgreSQL re-checks an updated row's
// conditions), skip it. A locking read (FOR UPDATE SKIP LOCKED) joined
// with the replicas would not do: the re-check of a row another taker
// changed does not run the join again.
func (d *Driver) JournalTakeOver(ctx context.Context, p store.JournalTakeOverParams) ([]store.JournalEntry, error) {
	rows, err := d.pool.Query(ctx, `
		WITH candidates AS (
			SELECT j.id, j.owner FROM journal j
			WHERE j.owner <> $1
				AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.id = j.owner AND r.last_beat >= $2)
			ORDER BY j.received_at
			LIMIT $4
		)
		UPDATE journal j SET owner = $1, taken_at = $3
		FROM candidates c
		WHERE j.id = c.id AND j.owner = c.owner
		RETURNING j.id, c.owner, j.envelope, j.received_at`,
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
	return d.delete(ctx, `DELETE FROM journal WHERE received_at < $1`, p.ReceivedBefore)
}
