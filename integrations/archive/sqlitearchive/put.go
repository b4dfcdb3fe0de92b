package sqlitearchive

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/townhall/townhall/integrations/archive"
)

// idSlots is how many messages of different channels may share one
// microsecond. A message's id is its time, in microseconds since 1970,
// times idSlots, plus a slot: the channel's own (slotOf) unless another
// channel's message at that microsecond holds it, then the next free one.
// Ids sort in time order, and the search index's rowids (the same ids) too.
const idSlots = 256

// slotOf is the channel's preferred slot, so that messages of different
// channels at the same microsecond (exports with whole-second or
// whole-minute timestamps) rarely compete for one.
func slotOf(channel string) int64 {
	h := fnv.New32a()
	h.Write([]byte(channel))
	return int64(h.Sum32() % idSlots)
}

// baseID is the first id a message at ts (canonical, see
// archive.NormalizeTS) can have; the largest ts gives 2.56e18, within int64.
func baseID(ts string) int64 {
	sec, _ := strconv.ParseInt(ts[:10], 10, 64)
	us, _ := strconv.ParseInt(ts[11:], 10, 64)
	return (sec*1_000_000 + us) * idSlots
}

// idAt is the first id of messages at t or later (t between 1970 and the
// latest Slack timestamp, 9999999999.999999; later is as the latest).
func idAt(t time.Time) int64 {
	const latest = 9_999_999_999_999_999 // microseconds
	return min(max(t.UnixMicro(), 0), latest+1) * idSlots
}

// indexBody is what the search index's body column holds for a message:
// its folded, CJK-segmented text and file names, then its CJK characters
// one by one, then the stems of its words (archive.Stems) that differ from
// them, each once. A phrase matches the words' positions; a word matches
// any of its own stems among the words and the stems. st caches stems
// across a batch; nil computes each.
func indexBody(m archive.Message, st *stemCache) string {
	var b strings.Builder
	text := unescapeSlack(m.Text)
	for _, f := range m.Files {
		text += " " + f.Title + " " + f.Name
	}
	folded := archive.Fold(text)
	toks := archive.Tokens(folded)
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	for _, u := range archive.Unigrams(folded) {
		b.WriteByte(' ')
		b.WriteString(u)
	}
	var seen map[string]bool
	for _, t := range toks {
		for _, s := range st.stems(t) {
			if seen == nil {
				seen = map[string]bool{}
			}
			if !seen[s] {
				seen[s] = true
				b.WriteByte(' ')
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

// stemCache remembers archive.Stems of the words of a batch (words repeat:
// most of a text is common words), up to stemCacheMax words.
type stemCache struct{ m map[string][]string }

const stemCacheMax = 50_000

func newStemCache() *stemCache { return &stemCache{m: map[string][]string{}} }

func (c *stemCache) stems(token string) []string {
	if c == nil {
		return archive.Stems(token)
	}
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

// Tokens of the search index's meta column, which in: and from: match.
// Slack IDs are ASCII letters and digits, one token each; any other ID
// (from a hand-made export) is spelled in hex so it stays one token.
func channelToken(id string) string { return "ch" + idToken(id) }
func userToken(id string) string    { return "us" + idToken(id) }

func idToken(id string) string {
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return "x" + hex.EncodeToString([]byte(id))
		}
	}
	return strings.ToLower(id)
}

// indexMeta is what the search index's meta column holds for a message.
func indexMeta(m archive.Message) string {
	if m.User == "" {
		return channelToken(m.Channel)
	}
	return channelToken(m.Channel) + " " + userToken(m.User)
}

// PutMessages implements archive.Archive: one transaction for the batch,
// written in time order (the ids' order), with the search index, the
// channels' counters and the threads' reply counts updated once per batch.
func (a *Archive) PutMessages(ctx context.Context, ms []archive.Message) (added int, err error) {
	if len(ms) == 0 {
		return 0, nil
	}
	batch := make([]archive.Message, len(ms))
	for k, m := range ms {
		if m.TS, err = archive.NormalizeTS(m.TS); err != nil {
			return 0, fmt.Errorf("sqlitearchive: message in %s: %w", m.Channel, err)
		}
		if m.ThreadTS != "" {
			if m.ThreadTS, err = archive.NormalizeTS(m.ThreadTS); err != nil {
				return 0, fmt.Errorf("sqlitearchive: message %s/%s: thread: %w", m.Channel, m.TS, err)
			}
		}
		batch[k] = m
	}
	// Stable: two copies of one message keep their order. An import's
	// batches come sorted (archive.Import sorts them on its reader).
	if !slices.IsSortedFunc(batch, byTS) {
		slices.SortStableFunc(batch, byTS)
	}
	texts := startIndexTexts(batch)
	defer texts.wait()
	err = a.writeTx(ctx, fmt.Sprintf("put %d messages", len(ms)), func(tx *sql.Tx) error {
		p, err := newPutter(ctx, tx, texts)
		if err != nil {
			return err
		}
		defer p.close()
		for k, m := range batch {
			if err := p.put(k, m); err != nil {
				return fmt.Errorf("message %s/%s: %w", m.Channel, m.TS, err)
			}
		}
		added = p.added
		return p.finish()
	})
	if err != nil {
		return 0, err
	}
	a.ckpt.wrote(len(ms))
	return added, nil
}

func byTS(x, y archive.Message) int { return strings.Compare(x.TS, y.TS) }

// putter writes one batch of messages in a transaction.
type putter struct {
	ctx        context.Context
	rowCtx     context.Context // ctx without its cancellation, for the statements of one message (see put)
	tx         *sql.Tx
	tombstones bool
	stmts      []*sql.Stmt
	removed    *sql.Stmt
	insert     *sql.Stmt
	find       *sql.Stmt
	update     *sql.Stmt

	added    int
	idx      *pendingIndex
	channels map[string]*channelDelta
	threads  map[[2]string]bool // (channel, thread ts) whose reply counts changed
	taken    map[int64]bool     // ids given in this batch
}

type channelDelta struct {
	added int
	last  string
}

func newPutter(ctx context.Context, tx *sql.Tx, texts *indexTexts) (_ *putter, err error) {
	p := &putter{ctx: ctx, rowCtx: context.WithoutCancel(ctx), tx: tx, idx: newPendingIndex(texts), channels: make(map[string]*channelDelta),
		threads: make(map[[2]string]bool), taken: make(map[int64]bool)}
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM archive_removed)`).Scan(&p.tombstones); err != nil {
		return nil, err
	}
	prepare := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		if s, err = tx.PrepareContext(ctx, q); err == nil {
			p.stmts = append(p.stmts, s)
		}
		return s
	}
	p.removed = prepare(`SELECT 1 FROM archive_removed WHERE channel = ? AND ts = ?`)
	// DO NOTHING when (channel, ts) is taken: the message is stored
	// already. The id taken fails the insert instead (a constraint
	// error, see idTaken): another channel's message holds this
	// microsecond's slot, which is then known without a look-up.
	p.insert = prepare(`INSERT INTO archive_messages
		(id, channel, ts, thread_ts, user, username, bot_id, subtype, text, edited, files, reactions)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, ts) DO NOTHING`)
	p.find = prepare(`SELECT id, edited, text, thread_ts, subtype, coalesce(files, ''), coalesce(reactions, ''),
		user, username FROM archive_messages WHERE channel = ? AND ts = ?`)
	p.update = prepare(`UPDATE archive_messages SET thread_ts = ?, user = ?, username = ?, bot_id = ?,
		subtype = ?, text = ?, edited = ?, files = ?, reactions = ? WHERE channel = ? AND ts = ?`)
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *putter) close() {
	for _, s := range p.stmts {
		s.Close()
	}
}

// put stores message k of the batch (TS and ThreadTS canonical). Its
// statements take microseconds: they run without ctx's cancellation, which
// costs a goroutine per statement, and ctx is checked once per message
// instead.
func (p *putter) put(k int, m archive.Message) error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	if p.tombstones {
		var one int
		switch err := p.removed.QueryRowContext(p.rowCtx, m.Channel, m.TS).Scan(&one); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	files, reactions := jsonOrNil(m.Files), jsonOrNil(m.Reactions)
	base, pref := baseID(m.TS), slotOf(m.Channel)
	for n := range int64(idSlots) {
		id := base + (pref+n)%idSlots
		if p.taken[id] {
			continue
		}
		res, err := p.insert.ExecContext(p.rowCtx, id, m.Channel, m.TS, m.ThreadTS, m.User, m.Username, m.BotID, m.Subtype, m.Text, m.Edited, files, reactions)
		if idTaken(err) {
			continue // the slot is another channel's: try the next
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			p.taken[id] = true
			p.idx.addOf(id, k)
			p.added++
			d := p.channels[m.Channel]
			if d == nil {
				d = &channelDelta{}
				p.channels[m.Channel] = d
			}
			d.added++
			d.last = max(d.last, m.TS)
			if m.ThreadTS != "" {
				p.threads[[2]string{m.Channel, m.ThreadTS}] = true
			}
			return nil
		}
		var stored int64
		var edited, text, threadTS, subtype, oldF, oldR, user, username string
		if err := p.find.QueryRowContext(p.rowCtx, m.Channel, m.TS).Scan(&stored, &edited, &text, &threadTS, &subtype, &oldF, &oldR, &user, &username); err != nil {
			return err // even sql.ErrNoRows: the insert found the message
		}
		if m.Edited < edited { // an older copy of a message edited since
			return nil
		}
		if m.Text == text && m.Edited == edited && m.ThreadTS == threadTS && m.Subtype == subtype &&
			strOf(files) == oldF && strOf(reactions) == oldR && m.User == user && m.Username == username {
			return nil // unchanged: a redelivery, or seen live and by catch-up
		}
		if _, err := p.update.ExecContext(p.rowCtx, m.ThreadTS, m.User, m.Username, m.BotID, m.Subtype, m.Text, m.Edited, files, reactions, m.Channel, m.TS); err != nil {
			return err
		}
		if m.ThreadTS != threadTS {
			for _, t := range []string{threadTS, m.ThreadTS, m.TS} {
				if t != "" {
					p.threads[[2]string{m.Channel, t}] = true
				}
			}
		}
		if m.Text != text || strOf(files) != oldF || m.User != user {
			if !p.idx.replace(stored, indexBody(m, nil), indexMeta(m)) {
				if _, err := p.tx.ExecContext(p.ctx, `DELETE FROM archive_fts WHERE rowid = ?`, stored); err != nil {
					return err
				}
				p.idx.add(stored, indexBody(m, nil), indexMeta(m))
			}
		}
		return nil
	}
	return fmt.Errorf("more than %d messages of other channels at the same microsecond", idSlots)
}

// idTaken reports whether err is the insert's failure on the id's
// uniqueness (archive_messages_id): the id is another message's.
func idTaken(err error) bool {
	var se *modernc.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// finish writes what the batch changed besides the messages: the search
// index, the channels' counters and the threads' reply counts.
func (p *putter) finish() error {
	if err := p.idx.flush(p.ctx, p.tx); err != nil {
		return err
	}
	for id, d := range p.channels {
		if _, err := p.tx.ExecContext(p.ctx, `INSERT INTO archive_channels (id, name, messages, last) VALUES (?1, ?1, ?2, ?3)
			ON CONFLICT (id) DO UPDATE SET messages = messages + excluded.messages, last = max(last, excluded.last)`,
			id, d.added, d.last); err != nil {
			return fmt.Errorf("count %s: %w", id, err)
		}
	}
	if len(p.threads) == 0 {
		return nil
	}
	keys := make([][2]string, 0, len(p.threads))
	for k := range p.threads {
		keys = append(keys, k)
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	if _, err := p.tx.ExecContext(p.ctx, recountReplies, string(b)); err != nil {
		return fmt.Errorf("count replies: %w", err)
	}
	return nil
}

// parallelIndexMin is the smallest batch whose index texts are computed on
// another goroutine, while the rows are written: folding and segmenting
// text is a tenth of an import's work.
const parallelIndexMin = 64

// indexTexts are the index texts (body and meta) of a batch's messages.
type indexTexts struct {
	done       chan struct{}
	body, meta []string
}

// startIndexTexts computes the index texts of batch, on another goroutine
// for a large batch; wait waits for them.
func startIndexTexts(batch []archive.Message) *indexTexts {
	t := &indexTexts{done: make(chan struct{}), body: make([]string, len(batch)), meta: make([]string, len(batch))}
	fill := func() {
		defer close(t.done)
		st := newStemCache()
		for k, m := range batch {
			t.body[k], t.meta[k] = indexBody(m, st), indexMeta(m)
		}
	}
	if len(batch) < parallelIndexMin {
		fill()
	} else {
		go fill()
	}
	return t
}

func (t *indexTexts) wait() { <-t.done }

// appendIndexJSON appends rows as a JSON array of [id, body, meta] arrays.
func appendIndexJSON(b []byte, rows []indexRow) []byte {
	b = append(b, '[')
	for k, r := range rows {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, r.id, 10)
		b = append(b, ',')
		b = appendJSONString(b, r.body)
		b = append(b, ',')
		b = appendJSONString(b, r.meta)
		b = append(b, ']')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string: what encoding/json writes
// for it, spelled with fewer escapes.
func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) { // as encoding/json: each invalid byte as U+FFFD
		j, _ := json.Marshal(s)
		return append(b, j...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// recountReplies sets the reply count and latest reply of the thread
// parents named by a JSON array of [channel, ts] pairs, from the thread
// index.
const recountReplies = `UPDATE archive_messages AS p SET (reply_count, latest_reply) = (
		SELECT count(*), coalesce(max(r.ts), '') FROM archive_messages r
		WHERE r.channel = p.channel AND r.thread_ts = p.ts AND r.thread_ts <> '' AND r.ts <> p.ts)
	FROM (SELECT value ->> 0 AS channel, value ->> 1 AS ts FROM json_each(?)) AS t
	WHERE p.channel = t.channel AND p.ts = t.ts`

// pendingIndex collects a batch's rows for the search index.
type pendingIndex struct {
	texts *indexTexts // of the batch; nil when every row has its own
	rows  []indexRow
	at    map[int64]int
}

// indexRow is one row of the search index, written as a JSON array. Its
// texts are the batch's k'th when k >= 0.
type indexRow struct {
	id         int64
	k          int
	body, meta string
}

func newPendingIndex(texts *indexTexts) *pendingIndex {
	return &pendingIndex{texts: texts, at: make(map[int64]int)}
}

// add adds a row with its texts.
func (p *pendingIndex) add(id int64, body, meta string) {
	p.at[id] = len(p.rows)
	p.rows = append(p.rows, indexRow{id: id, k: -1, body: body, meta: meta})
}

// addOf adds a row with the texts of the batch's k'th message.
func (p *pendingIndex) addOf(id int64, k int) {
	p.at[id] = len(p.rows)
	p.rows = append(p.rows, indexRow{id: id, k: k})
}

// replace changes a row not yet written, reporting whether there was one.
func (p *pendingIndex) replace(id int64, body, meta string) bool {
	k, ok := p.at[id]
	if ok {
		p.rows[k].k, p.rows[k].body, p.rows[k].meta = -1, body, meta
	}
	return ok
}

// flush writes the pending rows in rowid order, in one statement: FTS5
// writes its pending terms out as a new segment at every statement, and
// whenever a rowid is lower than the last, so one sorted statement makes
// few, large segments.
func (p *pendingIndex) flush(ctx context.Context, tx *sql.Tx) error {
	if len(p.rows) == 0 {
		return nil
	}
	if p.texts != nil {
		p.texts.wait()
		for k := range p.rows {
			if r := &p.rows[k]; r.k >= 0 {
				r.body, r.meta = p.texts.body[r.k], p.texts.meta[r.k]
			}
		}
	}
	slices.SortFunc(p.rows, func(x, y indexRow) int { return cmp.Compare(x.id, y.id) })
	if _, err := tx.ExecContext(ctx, `INSERT INTO archive_fts (rowid, body, meta)
		SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`, string(appendIndexJSON(make([]byte, 0, 128*len(p.rows)), p.rows))); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	p.rows = p.rows[:0]
	clear(p.at)
	return nil
}

// reindexBatch is how many rows reindexAll writes per statement.
const reindexBatch = 5000

// reindexAll fills the search index from archive_messages: the Go step of
// migration 2, which renumbered the messages and emptied the index.
func reindexAll(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, channel, user, text, coalesce(files, '') FROM archive_messages ORDER BY id`)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer rows.Close()
	idx := newPendingIndex(nil)
	st := newStemCache()
	for rows.Next() {
		var id int64
		var m archive.Message
		var files string
		if err := rows.Scan(&id, &m.Channel, &m.User, &m.Text, &files); err != nil {
			return fmt.Errorf("reindex: %w", err)
		}
		if files != "" {
			if err := json.Unmarshal([]byte(files), &m.Files); err != nil {
				return fmt.Errorf("reindex %s/%d: files: %w", m.Channel, id, err)
			}
		}
		idx.add(id, indexBody(m, st), indexMeta(m))
		if len(idx.rows) == reindexBatch {
			if err := idx.flush(ctx, tx); err != nil {
				return fmt.Errorf("reindex: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	if err := idx.flush(ctx, tx); err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	return nil
}

func jsonOrNil[T any](v []T) any {
	if len(v) == 0 {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil { // plain structs of strings and ints: cannot fail
		return nil
	}
	return string(b)
}

func strOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
