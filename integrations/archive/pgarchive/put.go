package pgarchive

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/integrations/archive"
)

// tsvector's limits (PostgreSQL's tsvector.h): a position is at most
// 16,383 (MAXENTRYPOS - 1), a lexeme at most 2,047 bytes (MAXSTRLEN).
const (
	maxPos    = 16383
	maxLexeme = 2046
)

// searchVector is the message's search text as a tsvector literal: the
// SQLite archive's index text (its folded, CJK-segmented words and file
// names, then its CJK characters one by one, then the words' stems that
// differ from them, each once), word k at position k+1, and the channel
// and author as '#ID' and '@ID'. st caches stems across a batch.
func searchVector(m archive.Message, st *stemCache) string {
	text := unescapeSlack(m.Text)
	for _, f := range m.Files {
		text += " " + f.Title + " " + f.Name
	}
	folded := archive.Fold(text)
	toks := archive.Tokens(folded)
	pos := make(map[string][]int, len(toks))
	var order []string
	n := 0
	add := func(lex string) {
		n++
		if len(lex) > maxLexeme { // longer than any query: a prefix still matches
			lex = truncate(lex, maxLexeme)
		}
		ps, ok := pos[lex]
		if !ok {
			order = append(order, lex)
		}
		if p := min(n, maxPos); len(ps) == 0 || ps[len(ps)-1] != p {
			pos[lex] = append(ps, p)
		}
	}
	for _, t := range toks {
		add(t)
	}
	for _, u := range archive.Unigrams(folded) {
		add(u)
	}
	seen := map[string]bool{}
	for _, t := range toks {
		for _, s := range st.stems(t) {
			if !seen[s] {
				seen[s] = true
				add(s)
			}
		}
	}
	var b strings.Builder
	for _, lex := range order {
		writeLexeme(&b, lex)
		for k, p := range pos[lex] {
			if k == 0 {
				b.WriteByte(':')
			} else {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(p))
		}
		b.WriteByte(' ')
	}
	writeLexeme(&b, channelLexeme(m.Channel))
	if m.User != "" {
		b.WriteByte(' ')
		writeLexeme(&b, userLexeme(m.User))
	}
	return b.String()
}

// The lexemes of a message's channel and author, which in: and from:
// match. No word can spell them: words are letters and digits only.
func channelLexeme(id string) string { return "#" + id }
func userLexeme(id string) string    { return "@" + id }

// writeLexeme writes lex quoted, as tsvector and tsquery literals read it.
func writeLexeme(b *strings.Builder, lex string) {
	b.WriteByte('\'')
	for _, r := range lex {
		switch r {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// stemCache remembers archive.Stems of the words of a batch (words repeat:
// most of a text is common words), up to stemCacheMax words.
type stemCache struct{ m map[string][]string }

const stemCacheMax = 50_000

func newStemCache() *stemCache { return &stemCache{m: map[string][]string{}} }

func (c *stemCache) stems(token string) []string {
	s, ok := c.m[token]
	if !ok {
		if len(c.m) >= stemCacheMax {
			clear(c.m)
		}
		s = archive.Stems(token)
		c.m[token] = s
	}
	return s
}

var slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

func unescapeSlack(s string) string { return slackEntities.Replace(s) }

// putMessages is the one statement that stores a batch: rows whose
// (channel, ts) is not tombstoned are inserted, or replace the stored
// message when they are not an older copy of an edited one and differ
// from it in what a reader sees. It returns the rows it inserted.
const putMessages = `
	INSERT INTO archive_messages AS m
		(channel, ts, thread_ts, user_id, username, bot_id, subtype, text, edited, files, reactions, search)
	SELECT i.channel, i.ts, i.thread_ts, i.user_id, i.username, i.bot_id, i.subtype, i.text, i.edited, i.files, i.reactions, i.search::tsvector
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
		WITH ORDINALITY AS i (channel, ts, thread_ts, user_id, username, bot_id, subtype, text, edited, files, reactions, search, k)
	WHERE NOT EXISTS (SELECT 1 FROM archive_removed r WHERE r.channel = i.channel AND r.ts = i.ts)
	ORDER BY i.k
	ON CONFLICT (channel, ts) DO UPDATE SET thread_ts = excluded.thread_ts, user_id = excluded.user_id,
		username = excluded.username, bot_id = excluded.bot_id, subtype = excluded.subtype, text = excluded.text,
		edited = excluded.edited, files = excluded.files, reactions = excluded.reactions, search = excluded.search
	WHERE excluded.edited >= m.edited
		AND (m.text, m.edited, m.thread_ts, m.subtype, m.files, m.reactions, m.user_id, m.username)
			IS DISTINCT FROM (excluded.text, excluded.edited, excluded.thread_ts, excluded.subtype, excluded.files,
				excluded.reactions, excluded.user_id, excluded.username)
	RETURNING m.channel, m.ts, m.xmax = 0`

// countMessages adds the batch's new messages to their channels' counters,
// creating a channel first heard of with its ID as its name.
const countMessages = `
	INSERT INTO archive_channels AS c (id, name, messages, last)
	SELECT id, id, n, last FROM unnest($1::text[], $2::int[], $3::text[]) AS t (id, n, last) ORDER BY id
	ON CONFLICT (id) DO UPDATE SET messages = c.messages + excluded.messages, last = greatest(c.last, excluded.last)`

// PutMessages implements archive.Archive: one statement for the batch
// (copies of one message within it folded first, as storing them one by
// one would leave them: the last of the latest edit), and one for the
// channels' counters, in one transaction. Rows are written in (ts,
// channel) order and channels in ID order, so replicas storing
// overlapping batches at once wait for each other instead of deadlocking.
//
// An import's batch (bulkBatch messages or more) is split by channel into
// parts stored at once, each in its own transaction on its own connection,
// so PostgreSQL indexes it on several cores (GIN insertion is most of the
// cost); the parts share no message and no channel, so they never wait
// for each other. A failure then may leave some parts stored: storing the
// batch again stores the rest, and reports only those as new.
func (a *Archive) PutMessages(ctx context.Context, ms []archive.Message) (added int, err error) {
	if len(ms) == 0 {
		return 0, nil
	}
	if a.readOnly {
		return 0, errReadOnly
	}
	batch := make([]archive.Message, 0, len(ms))
	at := make(map[[2]string]int, len(ms))
	for _, m := range ms {
		if m.TS, err = archive.NormalizeTS(m.TS); err != nil {
			return 0, fmt.Errorf("pgarchive: message in %s: %w", m.Channel, err)
		}
		if m.ThreadTS != "" {
			if m.ThreadTS, err = archive.NormalizeTS(m.ThreadTS); err != nil {
				return 0, fmt.Errorf("pgarchive: message %s/%s: thread: %w", m.Channel, m.TS, err)
			}
		}
		key := [2]string{m.Channel, m.TS}
		if k, ok := at[key]; ok {
			if m.Edited >= batch[k].Edited {
				batch[k] = m
			}
			continue
		}
		at[key] = len(batch)
		batch = append(batch, m)
	}
	slices.SortFunc(batch, func(x, y archive.Message) int {
		return cmpPair(x.TS, x.Channel, y.TS, y.Channel)
	})
	parts := a.split(batch)
	if len(parts) == 1 {
		return a.putBatch(ctx, batch)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, part := range parts {
		wg.Go(func() {
			n, err := a.putBatch(ctx, part)
			mu.Lock()
			defer mu.Unlock()
			added += n
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return added, errors.Join(errs...)
}

// split divides a sorted batch by channel into up to writers parts of
// about equal size, each still sorted: channels from the largest are
// given to the part with the fewest messages so far. A batch smaller than
// bulkBatch, or of one channel, is one part.
func (a *Archive) split(batch []archive.Message) [][]archive.Message {
	if len(batch) < bulkBatch || a.writers < 2 {
		return [][]archive.Message{batch}
	}
	counts := map[string]int{}
	for _, m := range batch {
		counts[m.Channel]++
	}
	if len(counts) == 1 {
		return [][]archive.Message{batch}
	}
	chans := make([]string, 0, len(counts))
	for c := range counts {
		chans = append(chans, c)
	}
	slices.SortFunc(chans, func(x, y string) int {
		return cmp.Or(counts[y]-counts[x], strings.Compare(x, y))
	})
	n := min(a.writers, len(chans))
	sizes := make([]int, n)
	part := make(map[string]int, len(chans))
	for _, c := range chans {
		k := slices.Index(sizes, slices.Min(sizes))
		part[c] = k
		sizes[k] += counts[c]
	}
	parts := make([][]archive.Message, n)
	for k := range parts {
		parts[k] = make([]archive.Message, 0, sizes[k])
	}
	for _, m := range batch {
		k := part[m.Channel]
		parts[k] = append(parts[k], m)
	}
	return parts
}

// putBatch stores a sorted batch of distinct messages in one transaction.
func (a *Archive) putBatch(ctx context.Context, batch []archive.Message) (added int, err error) {
	args := a.columns(batch)
	err = a.writeTx(ctx, fmt.Sprintf("put %d messages", len(batch)), func(tx pgx.Tx) error {
		if len(batch) >= bulkBatch {
			// An import's batch: the GIN index's pending list is merged
			// into the index by whichever insert fills it, in work_mem
			// at a time; more memory, fewer passes over the index.
			if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '`+bulkWorkMem+`'`); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, putMessages, args...)
		if err != nil {
			return err
		}
		type delta struct {
			n    int
			last string
		}
		deltas := map[string]*delta{}
		var channel, ts string
		var inserted bool
		_, err = pgx.ForEachRow(rows, []any{&channel, &ts, &inserted}, func() error {
			if !inserted {
				return nil
			}
			added++
			d := deltas[channel]
			if d == nil {
				d = &delta{}
				deltas[channel] = d
			}
			d.n++
			d.last = max(d.last, ts)
			return nil
		})
		if err != nil || len(deltas) == 0 {
			return err
		}
		var ids, lasts []string
		var ns []int32
		for id, d := range deltas {
			ids, ns, lasts = append(ids, id), append(ns, int32(d.n)), append(lasts, d.last)
		}
		_, err = tx.Exec(ctx, countMessages, ids, ns, lasts)
		return err
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// bulkBatch is the size from which a batch is an import's (archive.Import
// stores 5,000 messages at a time; live capture a few), and bulkWorkMem the
// work_mem its transaction sets.
const (
	bulkBatch   = 1000
	bulkWorkMem = "64MB"
)

// vectorChunk is how many messages' search texts one goroutine computes
// at a time.
const vectorChunk = 500

// columns are putMessages' arguments for batch: its columns as arrays of
// text. The search texts, most of the work, are computed on up to
// GOMAXPROCS goroutines, a chunk at a time, each with a stem cache kept
// from batch to batch.
func (a *Archive) columns(batch []archive.Message) []any {
	cols := make([][]string, 12)
	for k := range cols {
		cols[k] = make([]string, len(batch))
	}
	fill := func(from, to int) {
		st, _ := a.stemCaches.Get().(*stemCache)
		if st == nil {
			st = newStemCache()
		}
		defer a.stemCaches.Put(st)
		for k := from; k < to; k++ {
			m := batch[k]
			for c, v := range []string{m.Channel, m.TS, m.ThreadTS, m.User, m.Username, m.BotID, m.Subtype, m.Text,
				m.Edited, jsonOrEmpty(m.Files), jsonOrEmpty(m.Reactions), searchVector(m, st)} {
				cols[c][k] = v
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(batch)+vectorChunk-1)/vectorChunk)
	if workers <= 1 {
		fill(0, len(batch))
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					from := int(next.Add(vectorChunk)) - vectorChunk
					if from >= len(batch) {
						return
					}
					fill(from, min(from+vectorChunk, len(batch)))
				}
			})
		}
		wg.Wait()
	}
	args := make([]any, len(cols))
	for k, c := range cols {
		args[k] = c
	}
	return args
}

func cmpPair(a1, a2, b1, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}

func jsonOrEmpty[T any](v []T) string {
	if len(v) == 0 {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil { // plain structs of strings and ints: cannot fail
		return ""
	}
	return string(b)
}
