package sqlitearchive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// defaultRankWindow bounds ranked search: the best matches are chosen, by
// bm25, among the newest 2,000 messages that match. Ranking costs about
// 5 µs per match ranked (bm25 reads each match's sizes and positions), so
// ranking every match of a common word costs time in proportion to how
// common it is; within the window it stays near 10 ms, and older messages
// are reached with before: or by sorting newest first.
const defaultRankWindow = 2_000

// matchExpr turns query terms into an FTS5 MATCH expression over the
// index's body column (the folded, segmented text and its stems, see
// indexBody): a word matches any of its stems, a phrase and a prefix the
// words as written. Every token is quoted, so no user input is read as
// FTS5 syntax (tokens are letters and digits only). It returns ""
// when no term has a searchable token.
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
		p := `body : "` + strings.Join(toks, " ") + `"`
		switch {
		case prefix:
			p += "*"
		case !t.Phrase && len(toks) == 1:
			// A word: any of its stems, among the words and stems of the
			// index (see indexBody).
			if stems := archive.Stems(toks[0]); len(stems) > 0 {
				p = `body : ("` + toks[0] + `" OR "` + strings.Join(stems, `" OR "`) + `")`
			}
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " AND ")
}

// metaAny matches messages whose meta column has any of tokens.
func metaAny(tokens []string) string {
	quoted := make([]string, len(tokens))
	for k, t := range tokens {
		quoted[k] = `"` + t + `"`
	}
	return `meta : (` + strings.Join(quoted, " OR ") + `)`
}

// Search implements archive.Archive. Channel and user filters name channels
// and users by name or ID; unknown ones match nothing. Everything but the
// final page's rows is answered by the search index: words and phrases in
// its body column, in: and from: in its meta column, dates as rowid ranges
// (ids are times), opted-out members excluded with NOT.
//
// At most searchConns() searches run at once, on connections of their
// own. A search waits for its turn at most half the time left before
// ctx's deadline, then returns archive.ErrBusy; one still running at the
// deadline is interrupted and returns archive.ErrTooBroad (both wrapped).
func (a *Archive) Search(ctx context.Context, q archive.Query) (archive.Results, error) {
	if err := a.takeSearchSlot(ctx); err != nil {
		return archive.Results{}, fmt.Errorf("sqlitearchive: search %q: %w", q.String(), err)
	}
	defer func() { <-a.searchSlots }()
	res, err := a.runSearch(ctx, q)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return archive.Results{}, fmt.Errorf("sqlitearchive: search %q: %w: %w", q.String(), archive.ErrTooBroad, ctx.Err())
	}
	if err != nil {
		return archive.Results{}, fmt.Errorf("sqlitearchive: search %q: %w", q.String(), err)
	}
	return res, nil
}

// takeSearchSlot waits for a search's turn: at once if one is free, else
// for at most half the time left before ctx's deadline (archive.ErrBusy).
func (a *Archive) takeSearchSlot(ctx context.Context) error {
	select {
	case a.searchSlots <- struct{}{}:
		return nil
	default:
	}
	wait := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(ctx, time.Until(deadline)/2)
		defer cancel()
	}
	select {
	case a.searchSlots <- struct{}{}:
		return nil
	case <-wait.Done():
		if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err // the caller gave up
		}
		return archive.ErrBusy
	}
}

// runSearch is Search once it has its turn.
func (a *Archive) runSearch(ctx context.Context, q archive.Query) (archive.Results, error) {
	var res archive.Results
	body := matchExpr(q.Terms)
	if body == "" && len(q.Terms) > 0 {
		return res, nil // only punctuation: nothing to find
	}
	var parts []string
	if body != "" {
		parts = append(parts, body)
	}
	for _, f := range []struct {
		names []string
		query string
		token func(string) string
	}{
		{q.Channels, `SELECT id FROM archive_channels WHERE id = ?1 OR name = ?1`, channelToken},
		{q.Users, `SELECT id FROM archive_users WHERE id = ?1 OR name = ?1 COLLATE NOCASE OR display_name = ?1 COLLATE NOCASE`, userToken},
	} {
		if len(f.names) == 0 {
			continue
		}
		ids, err := a.resolve(ctx, f.query, f.names)
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			return res, nil
		}
		tokens := make([]string, len(ids))
		for k, id := range ids {
			tokens[k] = f.token(id)
		}
		parts = append(parts, metaAny(tokens))
	}
	lo, hi := int64(0), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		lo = idAt(q.Since)
	}
	if !q.Before.IsZero() {
		hi = idAt(q.Before)
	}
	size := q.PageSize()
	offset := max(q.Offset, 0)

	var ids []int64
	var expr string
	var err error
	if len(parts) == 0 {
		ids, err = a.newestByTime(ctx, lo, hi, size+1, offset)
	} else {
		expr = strings.Join(parts, " AND ")
		var optedOut []string
		if optedOut, err = a.optedOut(ctx); err != nil {
			return res, err
		}
		if len(optedOut) > 0 {
			tokens := make([]string, len(optedOut))
			for k, id := range optedOut {
				tokens[k] = userToken(id)
			}
			expr = "(" + expr + ") NOT " + metaAny(tokens)
		}
		if body == "" || q.Newest {
			ids, err = a.ids(ctx, `SELECT rowid, -rowid AS o FROM archive_fts WHERE archive_fts MATCH ? AND rowid >= ? AND rowid < ?
				ORDER BY rowid DESC LIMIT ? OFFSET ?`, expr, lo, hi, size+1, offset)
		} else {
			ids, err = a.ranked(ctx, expr, lo, hi, size+1, offset)
		}
	}
	if err != nil {
		return res, err
	}
	if len(ids) > size {
		ids, res.More = ids[:size], true
	}
	switch {
	case offset == 0 && !res.More: // this page is all of them
		res.Count = len(ids)
	case len(parts) == 0:
		err = a.count(ctx, &res, `SELECT count(*) FROM (SELECT 1 FROM `+messageFrom+`
			WHERE m.id >= ? AND m.id < ? AND coalesce(u.opted_out, 0) = 0 LIMIT ?)`, lo, hi, archive.CountLimit+1)
	default:
		err = a.count(ctx, &res, `SELECT count(*) FROM (SELECT rowid FROM archive_fts
			WHERE archive_fts MATCH ? AND rowid >= ? AND rowid < ? LIMIT ?)`, expr, lo, hi, archive.CountLimit+1)
	}
	if err != nil {
		return res, fmt.Errorf("count: %w", err)
	}
	if res.Hits, err = a.hits(ctx, ids); err != nil {
		return res, err
	}
	return res, nil
}

// count fills res.Count and res.CountMore with query, which counts at
// most archive.CountLimit+1 matches: counting stops there, so a common
// word costs no more to count than a rare one.
func (a *Archive) count(ctx context.Context, res *archive.Results, query string, args ...any) error {
	var n int
	if err := a.search.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return err
	}
	res.Count, res.CountMore = min(n, archive.CountLimit), n > archive.CountLimit
	return nil
}

// ranked returns a page of the matches of expr with rowids in [lo, hi),
// best first (bm25 over the body column), among the newest a.rankWindow.
func (a *Archive) ranked(ctx context.Context, expr string, lo, hi int64, limit, offset int) ([]int64, error) {
	var floor int64
	err := a.search.QueryRowContext(ctx, `SELECT rowid FROM archive_fts WHERE archive_fts MATCH ? AND rowid >= ? AND rowid < ?
		ORDER BY rowid DESC LIMIT 1 OFFSET ?`, expr, lo, hi, a.rankWindow-1).Scan(&floor)
	switch {
	case errors.Is(err, sql.ErrNoRows): // fewer matches than the window: rank them all
	case err != nil:
		return nil, err
	default:
		lo = max(lo, floor)
	}
	return a.ids(ctx, `SELECT rowid, rank AS o FROM archive_fts WHERE archive_fts MATCH ? AND rowid >= ? AND rowid < ?
		ORDER BY rank LIMIT ? OFFSET ?`, expr, lo, hi, limit, offset)
}

const newestByTimeQuery = `SELECT m.id AS rowid, -m.id AS o FROM ` + messageFrom + ` WHERE m.id >= ? AND m.id < ? AND coalesce(u.opted_out, 0) = 0
	ORDER BY m.id DESC LIMIT ? OFFSET ?`

// newestByTime returns a page of the messages with ids in [lo, hi), newest
// first, leaving out opted-out members': a search of dates alone.
func (a *Archive) newestByTime(ctx context.Context, lo, hi int64, limit, offset int) ([]int64, error) {
	return a.ids(ctx, newestByTimeQuery, lo, hi, limit, offset)
}

// ids runs query, which selects rowid and o and orders by o, and returns
// the rowids in that order. It reads them as one aggregate row, so all of
// the query's work happens in its first step, which SQLite's interrupt
// (the context's end) can stop; later steps of a multi-row query could not
// be.
func (a *Archive) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	var list string
	if err := a.search.QueryRowContext(ctx, `SELECT coalesce(group_concat(rowid, ',' ORDER BY o), '') FROM (`+query+`)`, args...).Scan(&list); err != nil {
		return nil, err
	}
	if list == "" {
		return nil, nil
	}
	var ids []int64
	for _, f := range strings.Split(list, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read ids: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// hits reads the messages of ids, in that order.
func (a *Archive) hits(ctx context.Context, ids []int64) ([]archive.Hit, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for k, id := range ids {
		args[k] = id
	}
	rows, err := a.search.QueryContext(ctx, hitsQuery(len(ids)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := make(map[int64]archive.Hit, len(ids))
	for rows.Next() {
		var h archive.Hit
		var id int64
		m, err := scanMessage(rows, &h.ChannelName, &id)
		if err != nil {
			return nil, err
		}
		h.Message = m
		byID[id] = h
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]archive.Hit, 0, len(ids))
	for _, id := range ids {
		if h, ok := byID[id]; ok { // gone since the index was read
			out = append(out, h)
		}
	}
	return out, nil
}

// hitsQuery reads n messages by id.
func hitsQuery(n int) string {
	return `SELECT ` + messageCols + `, coalesce(c.name, m.channel), m.id FROM ` + messageFrom + `
		LEFT JOIN archive_channels c ON c.id = m.channel WHERE m.id IN (` + placeholders(n) + `)`
}

// optedOut lists the members who opted out.
func (a *Archive) optedOut(ctx context.Context) ([]string, error) {
	rows, err := a.search.QueryContext(ctx, `SELECT id FROM archive_users WHERE opted_out`)
	if err != nil {
		return nil, fmt.Errorf("opted-out members: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("opted-out members: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// resolve maps names or IDs to IDs with query (one ?1 parameter).
func (a *Archive) resolve(ctx context.Context, query string, names []string) ([]string, error) {
	var ids []string
	for _, n := range names {
		rows, err := a.search.QueryContext(ctx, query, n)
		if err != nil {
			return nil, fmt.Errorf("resolve %q: %w", n, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("resolve %q: %w", n, err)
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
