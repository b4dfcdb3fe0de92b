package sqlitearchive

import (
	"context"
	"fmt"
	"strings"

	"github.com/townhall/townhall/integrations/archive"
)

// matchExpr turns query terms into an FTS5 MATCH expression over the
// folded, segmented index (see indexBody). Every token is quoted, so no
// user input is read as FTS5 syntax. It returns "" when no term has a
// searchable token.
func matchExpr(terms []archive.Term) string {
	var parts []string
	for _, t := range terms {
		text, prefix := t.Text, false
		if !t.Phrase && strings.HasSuffix(text, "*") {
			text, prefix = strings.TrimRight(text, "*"), true
		}
		toks := archive.Tokens(archive.Fold(unescapeSlack(text)))
		if len(toks) == 0 {
			continue
		}
		p := `"` + strings.Join(toks, " ") + `"`
		if prefix {
			p += "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " AND ")
}

// Search implements archive.Archive. Channel and user filters name channels
// and users by name or ID; unknown ones match nothing.
func (a *Archive) Search(ctx context.Context, q archive.Query) (archive.Results, error) {
	var res archive.Results
	var where []string
	var args []any

	match := matchExpr(q.Terms)
	if match == "" && len(q.Terms) > 0 {
		return res, nil // only punctuation: nothing to find
	}
	if len(q.Channels) > 0 {
		ids, err := a.resolve(ctx, `SELECT id FROM archive_channels WHERE id = ?1 OR name = ?1`, q.Channels)
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			return res, nil
		}
		where = append(where, "m.channel IN ("+placeholders(len(ids))+")")
		args = append(args, ids...)
	}
	if len(q.Users) > 0 {
		ids, err := a.resolve(ctx, `SELECT id FROM archive_users WHERE id = ?1 OR name = ?1 COLLATE NOCASE OR display_name = ?1 COLLATE NOCASE`, q.Users)
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			return res, nil
		}
		where = append(where, "m.user IN ("+placeholders(len(ids))+")")
		args = append(args, ids...)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "m.ts >= ?"), append(args, archive.FormatTS(q.Since))
	}
	if !q.Before.IsZero() {
		where, args = append(where, "m.ts < ?"), append(args, archive.FormatTS(q.Before))
	}
	where = append(where, "coalesce(u.opted_out, 0) = 0")

	var query string
	if match != "" {
		order := "f.rank"
		if q.Newest {
			order = "m.ts DESC"
		}
		query = `SELECT ` + messageCols + `, c.name FROM archive_fts f
			JOIN archive_messages m ON m.id = f.rowid LEFT JOIN archive_users u ON u.id = m.user
			JOIN archive_channels c ON c.id = m.channel
			WHERE archive_fts MATCH ? AND ` + strings.Join(where, " AND ") + ` ORDER BY ` + order
		args = append([]any{match}, args...)
	} else {
		query = `SELECT ` + messageCols + `, c.name FROM ` + messageFrom + `
			JOIN archive_channels c ON c.id = m.channel
			WHERE ` + strings.Join(where, " AND ") + ` ORDER BY m.ts DESC`
	}
	size := q.PageSize()
	query += fmt.Sprintf(" LIMIT %d OFFSET %d", size+1, max(q.Offset, 0))

	rows, err := a.read.QueryContext(ctx, query, args...)
	if err != nil {
		return res, fmt.Errorf("sqlitearchive: search %q: %w", q.String(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var h archive.Hit
		m, err := scanMessage(rows, &h.ChannelName)
		if err != nil {
			return res, fmt.Errorf("sqlitearchive: search: %w", err)
		}
		h.Message = m
		res.Hits = append(res.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("sqlitearchive: search %q: %w", q.String(), err)
	}
	if len(res.Hits) > size {
		res.Hits, res.More = res.Hits[:size], true
	}
	return res, nil
}

// resolve maps names or IDs to IDs with query (one ?1 parameter).
func (a *Archive) resolve(ctx context.Context, query string, names []string) ([]any, error) {
	var ids []any
	for _, n := range names {
		rows, err := a.read.QueryContext(ctx, query, n)
		if err != nil {
			return nil, fmt.Errorf("sqlitearchive: search: resolve %q: %w", n, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlitearchive: search: resolve %q: %w", n, err)
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
