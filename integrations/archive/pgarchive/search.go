package pgarchive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/integrations/archive"
)

// defaultRankWindow bounds ranked search, as the SQLite archive's does:
// the best matches are chosen, by ts_rank, among the newest 2,000
// messages that match, so ranking a common word costs no more than
// ranking 2,000 messages; older ones are reached with before: or by
// sorting newest first.
const defaultRankWindow = 2_000

// bodyQuery turns query terms into a tsquery over the words and stems of
// the search text (see searchVector), as the SQLite archive's matchExpr
// does for FTS5: a word matches any of its stems, a phrase and a prefix
// the words as written, one after another. Every lexeme is quoted, so no
// user input is read as tsquery syntax. It returns "" when no term has a
// searchable token.
func bodyQuery(terms []archive.Term) string {
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
		var b strings.Builder
		switch {
		case !t.Phrase && !prefix && len(toks) == 1:
			// A word: any of its stems, among the words and stems of the
			// search text.
			b.WriteByte('(')
			writeLexeme(&b, toks[0])
			for _, s := range archive.Stems(toks[0]) {
				b.WriteString(" | ")
				writeLexeme(&b, s)
			}
			b.WriteByte(')')
		default:
			b.WriteByte('(')
			for k, tok := range toks {
				if k > 0 {
					b.WriteString(" <-> ")
				}
				writeLexeme(&b, truncate(tok, maxLexeme))
			}
			if prefix {
				b.WriteString(":*")
			}
			b.WriteByte(')')
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " & ")
}

// anyLexeme matches search texts holding any of lexemes.
func anyLexeme(lexemes []string) string {
	var b strings.Builder
	b.WriteByte('(')
	for k, l := range lexemes {
		if k > 0 {
			b.WriteString(" | ")
		}
		writeLexeme(&b, l)
	}
	b.WriteByte(')')
	return b.String()
}

// tsBound is the ts of time t for comparing with stored ones (canonical,
// ten digits of seconds): before 1970 is below every ts, past Slack's
// latest (9999999999.999999) above every one.
func tsBound(t time.Time) string {
	switch us := t.UnixMicro(); {
	case us < 0:
		return "0000000000.000000"
	case us > 9_999_999_999_999_999:
		return ":" // the byte after '9'
	}
	return archive.FormatTS(t)
}

// Search implements archive.Archive. Channel and user filters name channels
// and users by name or ID; unknown ones match nothing. The words, in: and
// from: are one tsquery on the search text's GIN index; dates are a range
// of ts and opted-out members' messages are excluded in the same query.
//
// At most a few searches run at once (see searchSlots). A search waits
// for its turn at most half the time left before ctx's deadline, then
// returns archive.ErrBusy; one still running at the deadline is cancelled
// and returns archive.ErrTooBroad (both wrapped).
func (a *Archive) Search(ctx context.Context, q archive.Query) (archive.Results, error) {
	if err := a.takeSearchSlot(ctx); err != nil {
		return archive.Results{}, fmt.Errorf("pgarchive: search %q: %w", q.String(), err)
	}
	defer func() { <-a.searchSlots }()
	res, err := a.runSearch(ctx, q)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return archive.Results{}, fmt.Errorf("pgarchive: search %q: %w: %w", q.String(), archive.ErrTooBroad, ctx.Err())
	}
	if err != nil {
		return archive.Results{}, fmt.Errorf("pgarchive: search %q: %w", q.String(), err)
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

// key is a message's key, (channel, ts).
type key struct{ channel, ts string }

// runSearch is Search once it has its turn.
func (a *Archive) runSearch(ctx context.Context, q archive.Query) (archive.Results, error) {
	var res archive.Results
	body := bodyQuery(q.Terms)
	if body == "" && len(q.Terms) > 0 {
		return res, nil // only punctuation: nothing to find
	}
	parts := []string{}
	if body != "" {
		parts = append(parts, body)
	}
	for _, f := range []struct {
		names  []string
		query  string
		lexeme func(string) string
	}{
		{q.Channels, `SELECT id FROM archive_channels WHERE id = $1 OR name = $1`, channelLexeme},
		{q.Users, `SELECT id FROM archive_users WHERE id = $1 OR lower(name) = lower($1) OR lower(display_name) = lower($1)`, userLexeme},
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
		lexemes := make([]string, len(ids))
		for k, id := range ids {
			lexemes[k] = f.lexeme(id)
		}
		parts = append(parts, anyLexeme(lexemes))
	}
	optedOut := []string{} // not nil: NULL would exclude everyone
	if err := a.collect(ctx, &optedOut, `SELECT id FROM archive_users WHERE opted_out`); err != nil {
		return res, fmt.Errorf("opted-out members: %w", err)
	}

	// where is the condition on archive_messages m, with its arguments.
	args := []any{optedOut}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"m.user_id <> ALL ($1::text[])"}
	var match string
	if len(parts) > 0 {
		match = arg(strings.Join(parts, " & ")) + "::tsquery"
		where = append(where, "m.search @@ "+match)
	}
	if !q.Since.IsZero() {
		where = append(where, "m.ts >= "+arg(tsBound(q.Since)))
	}
	if !q.Before.IsZero() {
		where = append(where, "m.ts < "+arg(tsBound(q.Before)))
	}
	cond := strings.Join(where, " AND ")
	condArgs := slices.Clone(args)
	size := q.PageSize()
	offset := max(q.Offset, 0)
	page := fmt.Sprintf(" LIMIT %d OFFSET %d", size+1, offset)

	// The page's query also counts the matches, up to archive.CountLimit,
	// in the same pass (count(*) over the rows it orders, before its
	// LIMIT): the newest CountLimit+1 matches (or as many as the page
	// needs) newest first, or the rank window, which is larger. So a
	// common word is walked once, not once for the page and once more
	// for its count.
	var query string
	if body == "" || q.Newest {
		window := max(archive.CountLimit+1, offset+size+1)
		query = `SELECT n.channel, n.ts, count(*) OVER () FROM (
				SELECT m.channel, m.ts FROM archive_messages m WHERE ` + cond + `
				ORDER BY m.ts DESC, m.channel DESC LIMIT ` + strconv.Itoa(window) + `
			) n ORDER BY n.ts DESC, n.channel DESC` + page
	} else {
		query = `SELECT w.channel, w.ts, count(*) OVER () FROM (
				SELECT m.channel, m.ts, m.search FROM archive_messages m WHERE ` + cond + `
				ORDER BY m.ts DESC, m.channel DESC LIMIT ` + strconv.Itoa(a.rankWindow) + `
			) w ORDER BY ts_rank(w.search, ` + arg(body) + `::tsquery, 1) DESC, w.ts DESC, w.channel DESC` + page
	}
	rows, err := a.pool.Query(ctx, query, args...)
	if err != nil {
		return res, err
	}
	counted := -1 // matches in the query's window, when it returned a row
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (key, error) {
		var k key
		err := row.Scan(&k.channel, &k.ts, &counted)
		return k, err
	})
	if err != nil {
		return res, err
	}
	if len(keys) > size {
		keys, res.More = keys[:size], true
	}
	ranked := body != "" && !q.Newest
	switch {
	case offset == 0 && !res.More: // this page is all of them
		res.Count = len(keys)
	case counted >= 0 && (!ranked || a.rankWindow > archive.CountLimit):
		// The window held every match, or more than CountLimit of them.
		res.Count, res.CountMore = min(counted, archive.CountLimit), counted > archive.CountLimit
	default: // a page past the window's end, or a window too small to count
		var n int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM archive_messages m WHERE `+cond+
			` LIMIT `+strconv.Itoa(archive.CountLimit+1)+`) c`, condArgs...).Scan(&n); err != nil {
			return res, fmt.Errorf("count: %w", err)
		}
		res.Count, res.CountMore = min(n, archive.CountLimit), n > archive.CountLimit
	}
	if res.Hits, err = a.hits(ctx, keys); err != nil {
		return res, err
	}
	return res, nil
}

// hits reads the messages of keys, in that order.
func (a *Archive) hits(ctx context.Context, keys []key) ([]archive.Hit, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	chans, tss := make([]string, len(keys)), make([]string, len(keys))
	for k, key := range keys {
		chans[k], tss[k] = key.channel, key.ts
	}
	rows, err := a.pool.Query(ctx, `SELECT `+messageCols+`, coalesce(c.name, m.channel)
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k (channel, ts, n)
		JOIN archive_messages m ON m.channel = k.channel AND m.ts = k.ts
		LEFT JOIN archive_users u ON u.id = m.user_id
		LEFT JOIN archive_channels c ON c.id = m.channel
		ORDER BY k.n`, chans, tss)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (archive.Hit, error) {
		var h archive.Hit
		m, err := scanMessage(row, &h.ChannelName)
		h.Message = m
		return h, err
	})
}

// resolve maps names or IDs to IDs with query (one $1 parameter).
func (a *Archive) resolve(ctx context.Context, query string, names []string) ([]string, error) {
	var ids []string
	for _, n := range names {
		if err := a.collect(ctx, &ids, query, n); err != nil {
			return nil, fmt.Errorf("resolve %q: %w", n, err)
		}
	}
	return ids, nil
}

// collect appends the strings query selects to out.
func (a *Archive) collect(ctx context.Context, out *[]string, query string, args ...any) error {
	rows, err := a.pool.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	ss, err := pgx.CollectRows(rows, pgx.RowTo[string])
	*out = append(*out, ss...)
	return err
}
