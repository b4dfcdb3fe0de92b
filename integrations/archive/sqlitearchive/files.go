package sqlitearchive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

var _ archive.FileIndex = (*Archive)(nil)

const fileColumns = `id, sha256, name, mimetype, size, width, height, status, reason, source, fetched, user`

func scanFile(row interface{ Scan(...any) error }) (archive.StoredFile, error) {
	var f archive.StoredFile
	var fetched int64
	err := row.Scan(&f.ID, &f.SHA256, &f.Name, &f.Mimetype, &f.Size, &f.Width, &f.Height, &f.Status, &f.Reason, &f.Source, &fetched, &f.User)
	if fetched > 0 {
		f.Fetched = time.Unix(fetched, 0).UTC()
	}
	return f, err
}

// PutStoredFile implements archive.FileIndex.
func (a *Archive) PutStoredFile(ctx context.Context, f archive.StoredFile, refs []archive.FileRef) (orphans []string, err error) {
	var fetched int64
	if !f.Fetched.IsZero() {
		fetched = f.Fetched.Unix()
	}
	err = a.writeTx(ctx, "put file "+f.ID, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT sha256 FROM archive_files WHERE id = ?`, f.ID).Scan(&old); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO archive_files (`+fileColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET sha256 = excluded.sha256, name = excluded.name, mimetype = excluded.mimetype,
				size = excluded.size, width = excluded.width, height = excluded.height, status = excluded.status,
				reason = excluded.reason, source = excluded.source, fetched = excluded.fetched, user = excluded.user`,
			f.ID, f.SHA256, f.Name, f.Mimetype, f.Size, f.Width, f.Height, f.Status, f.Reason, f.Source, fetched, f.User); err != nil {
			return err
		}
		if err := putRefs(ctx, tx, refs); err != nil {
			return err
		}
		if old != "" && old != f.SHA256 {
			orphans, err = unused(ctx, tx, []string{old})
		}
		return err
	})
	return orphans, err
}

func putRefs(ctx context.Context, tx *sql.Tx, refs []archive.FileRef) error {
	for _, r := range refs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO archive_file_refs (file, channel, ts, user) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, r.File, r.Channel, r.TS, r.User); err != nil {
			return err
		}
	}
	return nil
}

// unused returns those of sums that no file record has.
func unused(ctx context.Context, tx *sql.Tx, sums []string) ([]string, error) {
	var out []string
	for _, s := range sums {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM archive_files WHERE sha256 = ?`, s).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			out = append(out, s)
		}
	}
	return out, nil
}

// PutFileRefs implements archive.FileIndex.
func (a *Archive) PutFileRefs(ctx context.Context, refs []archive.FileRef) error {
	return a.writeTx(ctx, "put file references", func(tx *sql.Tx) error { return putRefs(ctx, tx, refs) })
}

// StoredFile implements archive.FileIndex.
func (a *Archive) StoredFile(ctx context.Context, id string) (archive.StoredFile, bool, error) {
	f, err := scanFile(a.read.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM archive_files WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return archive.StoredFile{}, false, nil
	}
	if err != nil {
		return archive.StoredFile{}, false, fmt.Errorf("sqlitearchive: file %s: %w", id, err)
	}
	return f, true, nil
}

// StoredBlob implements archive.FileIndex.
func (a *Archive) StoredBlob(ctx context.Context, sum, name string) (archive.StoredFile, bool, error) {
	f, err := scanFile(a.read.QueryRowContext(ctx, `SELECT `+fileColumns+` FROM archive_files
		WHERE sha256 = ? AND sha256 <> '' AND status = 'stored' ORDER BY name = ? DESC, id LIMIT 1`, sum, name))
	if errors.Is(err, sql.ErrNoRows) {
		return archive.StoredFile{}, false, nil
	}
	if err != nil {
		return archive.StoredFile{}, false, fmt.Errorf("sqlitearchive: blob %s: %w", sum, err)
	}
	return f, true, nil
}

// FileRefs implements archive.FileIndex.
func (a *Archive) FileRefs(ctx context.Context, id string) ([]archive.FileRef, error) {
	rows, err := a.read.QueryContext(ctx, `SELECT file, channel, ts, user FROM archive_file_refs WHERE file = ? ORDER BY channel, ts`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlitearchive: references to %s: %w", id, err)
	}
	defer rows.Close()
	var out []archive.FileRef
	for rows.Next() {
		var r archive.FileRef
		if err := rows.Scan(&r.File, &r.Channel, &r.TS, &r.User); err != nil {
			return nil, fmt.Errorf("sqlitearchive: references to %s: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitearchive: references to %s: %w", id, err)
	}
	return out, nil
}

// ForgetMessageFiles implements archive.FileIndex.
func (a *Archive) ForgetMessageFiles(ctx context.Context, channel, ts string) (orphans []string, err error) {
	if n, err := archive.NormalizeTS(ts); err == nil {
		ts = n
	}
	return a.forgetRefs(ctx, "forget files of "+channel+"/"+ts, `channel = ? AND ts = ? AND channel <> ''`, channel, ts)
}

// ForgetUserFiles implements archive.FileIndex.
func (a *Archive) ForgetUserFiles(ctx context.Context, user string) (orphans []string, err error) {
	return a.forgetRefs(ctx, "forget files of "+user, `(user = ? OR file IN (SELECT id FROM archive_files WHERE user = ?)) AND ? <> ''`, user, user, user)
}

// forgetRefs deletes the references that where selects, the records of
// files left without any, and returns the hashes no record has any more.
func (a *Archive) forgetRefs(ctx context.Context, op, where string, args ...any) (orphans []string, err error) {
	err = a.writeTx(ctx, op, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `DELETE FROM archive_file_refs WHERE `+where+` RETURNING file`, args...)
		if err != nil {
			return err
		}
		var files []string
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				rows.Close()
				return err
			}
			files = append(files, f)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		var sums []string
		for _, f := range files {
			var sum string
			err := tx.QueryRowContext(ctx, `DELETE FROM archive_files WHERE id = ?
				AND NOT EXISTS (SELECT 1 FROM archive_file_refs WHERE file = ?) RETURNING sha256`, f, f).Scan(&sum)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if sum != "" {
				sums = append(sums, sum)
			}
		}
		orphans, err = unused(ctx, tx, sums)
		return err
	})
	return orphans, err
}

// FileUsage implements archive.FileIndex.
func (a *Archive) FileUsage(ctx context.Context) (archive.FileUsage, error) {
	var u archive.FileUsage
	err := a.read.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM archive_files WHERE status = 'stored'),
			(SELECT count(*) FROM archive_files WHERE status = 'gone'),
			(SELECT count(*) FROM archive_files WHERE status = 'skipped'),
			count(*), coalesce(sum(size), 0)
		FROM (SELECT sha256, max(size) AS size FROM archive_files WHERE status = 'stored' AND sha256 <> '' GROUP BY sha256)`).
		Scan(&u.Files, &u.Gone, &u.Skipped, &u.Blobs, &u.Bytes)
	if err != nil {
		return u, fmt.Errorf("sqlitearchive: file usage: %w", err)
	}
	return u, nil
}
