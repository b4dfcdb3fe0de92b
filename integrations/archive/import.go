package archive

import (
	"archive/zip"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// ImportStats count what Import did; together they are the import report.
type ImportStats struct {
	Channels     int      // public channels read from channels.json
	Users        int      // users read from users.json (and authors known only from their messages)
	DayFiles     int      // day files imported
	Messages     int      // messages read
	Added        int      // of which new to the archive
	Private      int      // private conversations skipped (groups.json, dms.json, mpims.json)
	PrivateFiles int      // files of private conversations (or of no listed channel) skipped
	Malformed    []string // files that could not be read to their end, with why (what came before is imported)
	BadValues    int      // single values that could not be read and were left out
	Problems     []string // the first of them, named: file, message, field, value
}

// ImportOptions are Import's settings; the zero value imports silently
// with the default limits.
type ImportOptions struct {
	// Progress receives progress (a bar on a terminal, a line per few
	// percent otherwise); nil reports nothing.
	Progress io.Writer
	// Limits bound what the export may expand to.
	Limits ImportLimits
}

// importBatch is how many messages Import stores per transaction.
const importBatch = 5000

// privateLists are the export's lists of private conversations.
var privateLists = []string{"groups.json", "dms.json", "mpims.json"}

// Import reads a Slack export zip (r, of size bytes) into the archive.
// Only the public channels listed in channels.json are imported; private
// conversations (groups.json, dms.json, mpims.json and every folder not
// listed in channels.json) are skipped and counted, never read. Threads
// join by thread_ts wherever their replies sit. It is idempotent: an
// overlapping export, or messages also captured live, leave one message
// each. A malformed day file is named in the stats and skipped; the rest
// is imported. Day files are read day by day across channels (roughly time
// order, the archive's own) and decoded on another goroutine while the
// archive stores the previous batch. Memory stays bounded: one day file and
// three batches at most, and what is read is bounded by o.Limits (see
// ImportLimits); a message longer than Slack's 40,000 characters is cut
// there, and the cut reported.
func Import(ctx context.Context, a Archive, r io.ReaderAt, size int64, o ImportOptions) (ImportStats, error) {
	var st ImportStats
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return st, fmt.Errorf("archive: import: not a zip file: %w", err)
	}
	files, err := checkZip(zr)
	if err != nil {
		return st, fmt.Errorf("archive: import: %w", err)
	}
	root := exportRoot(files)
	rd := &reading{limits: o.Limits.withDefaults()}

	known := make(map[string]bool) // user IDs
	if f := files[root+"users.json"]; f != nil {
		err := rd.decodeFile(f, &st, func(dec *json.Decoder, p *problems) error {
			return decodeList(dec, p, (*exportUser).what,
				func(i int, u *exportUser) error {
					u.problems(p, i)
					if u.ID == "" {
						return nil
					}
					known[u.ID] = true
					st.Users++
					return a.PutUser(ctx, User{ID: u.ID, Name: u.Name, RealName: firstOf(u.Profile.RealName, u.RealName),
						DisplayName: u.Profile.DisplayName, Avatar: firstOf(u.Profile.Image48, u.Profile.Image72), Bot: u.IsBot.B, Deleted: u.Deleted.B})
				})
		})
		if err != nil {
			return st, fmt.Errorf("archive: import: %w", err)
		}
	}
	var channels []exportChannel
	f := files[root+"channels.json"]
	if f == nil {
		return st, errors.New("archive: import: no channels.json: is this a Slack export?")
	}
	err = rd.decodeFile(f, &st, func(dec *json.Decoder, p *problems) error {
		return decodeList(dec, p, (*exportChannel).what,
			func(i int, c *exportChannel) error {
				c.problems(p, i)
				channels = append(channels, *c)
				return nil
			})
	})
	if err != nil {
		return st, fmt.Errorf("archive: import: %w", err)
	}
	// What the export lists as private is never imported, even if
	// channels.json (written by another tool) lists it too.
	private := make(map[string]bool) // IDs and names
	for _, name := range privateLists {
		if f := files[root+name]; f != nil {
			// Read only for the names and IDs never to import; what
			// cannot be read of it is not reported (nothing of it is kept).
			var discard ImportStats
			_ = rd.decodeFile(f, &discard, func(dec *json.Decoder, p *problems) error {
				return decodeList(dec, p, (*exportChannel).what,
					func(_ int, c *exportChannel) error {
						st.Private++
						if c.ID != "" {
							private[c.ID] = true
						}
						if c.Name != "" {
							private[c.Name] = true
						}
						return nil
					})
			})
		}
	}
	dirs := make(map[string]string) // folder → channel ID
	for _, c := range channels {
		if c.ID == "" {
			continue
		}
		if c.IsPrivate.B || private[c.ID] || private[c.Name] || !strings.HasPrefix(c.ID, "C") {
			st.Private++
			continue
		}
		ch := Channel{ID: c.ID, Name: c.Name, Topic: c.Topic.Value, Purpose: c.Purpose.Value, Archived: c.IsArchived.B}
		if c.Created.N > 0 {
			ch.Created = time.Unix(c.Created.N, 0).UTC()
		}
		if err := a.PutChannel(ctx, ch); err != nil {
			return st, fmt.Errorf("archive: import: %w", err)
		}
		dirs[c.Name] = c.ID
		dirs[c.ID] = c.ID
		st.Channels++
	}

	var days []*zip.File
	for name, f := range files {
		rel := strings.TrimPrefix(name, root)
		dir, file := path.Split(rel)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" || strings.Contains(dir, "/") || !strings.HasSuffix(file, ".json") {
			continue
		}
		if _, ok := dirs[dir]; !ok {
			st.PrivateFiles++
			continue
		}
		days = append(days, f)
	}
	// Day by day across channels, so messages arrive roughly in time order,
	// the order the archive keeps them in.
	slices.SortFunc(days, func(x, y *zip.File) int {
		return cmp.Or(strings.Compare(path.Base(x.Name), path.Base(y.Name)), strings.Compare(x.Name, y.Name))
	})

	// An archive that writes an import better when told (see Bulk) is
	// told until the last batch is stored, or the import failed.
	endBulk := func(context.Context) error { return nil }
	if bk, ok := a.(Bulk); ok {
		if endBulk, err = bk.BeginBulk(ctx); err != nil {
			return st, fmt.Errorf("archive: import: %w", err)
		}
	}
	// Day files are read and decoded on one goroutine while the archive
	// stores the previous batch on this one: at most three batches exist
	// at once (being filled, waiting, being stored).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan importedBatch, 1)
	authors := make(map[string]User) // written by the reader until wg.Wait
	bar := newProgress(o.Progress, len(days))
	var wg sync.WaitGroup
	var readErr error // the reader's, set before wg.Done
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(batches)
		readErr = rd.readDays(ctx, days, root, dirs, known, &st, bar, authors, batches)
	}()
	var putErr error
	for b := range batches {
		if putErr != nil {
			continue // drain until the reader sees the cancellation
		}
		n, err := a.PutMessages(ctx, b.messages)
		st.Added += n
		if err != nil {
			putErr = fmt.Errorf("archive: import %s: %w", b.last, err)
			cancel()
		}
	}
	wg.Wait()
	if err := endBulk(context.WithoutCancel(ctx)); err != nil && putErr == nil {
		putErr = fmt.Errorf("archive: import: %w", err)
	}
	if putErr != nil {
		return st, putErr
	}
	if readErr != nil {
		return st, fmt.Errorf("archive: import: %w", readErr)
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	for _, u := range authors {
		if _, ok, err := a.User(ctx, u.ID); err != nil || ok {
			continue // known from an earlier import or live capture, which know them better
		}
		if err := a.PutUser(ctx, u); err != nil {
			return st, fmt.Errorf("archive: import: %w", err)
		}
		st.Users++
	}
	bar.done(st.Messages)
	return st, nil
}

// importedBatch is a batch of messages read from an export, and the day
// file its last message came from.
type importedBatch struct {
	messages []Message
	last     string
}

// readDays decodes the day files into batches of importBatch messages,
// counting in st what it reads (Messages, DayFiles, Malformed, BadValues,
// Problems), until the files or ctx end. Authors that users.json does not
// list but whose messages carry their profile are added to authors. The
// error is what ends the import: the export expands beyond its limit.
func (rd *reading) readDays(ctx context.Context, days []*zip.File, root string, dirs map[string]string, known map[string]bool, st *ImportStats, bar *progress, authors map[string]User, out chan<- importedBatch) error {
	batch := importedBatch{messages: make([]Message, 0, importBatch)}
	send := func() bool {
		// In the order the archive stores them (see Archive.PutMessages),
		// sorted here, on the reader's goroutine, and not by the writer.
		batch.messages = sortedByTS(batch.messages)
		select {
		case out <- batch:
			batch = importedBatch{messages: make([]Message, 0, importBatch)}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for k, f := range days {
		if ctx.Err() != nil {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(f.Name, "./"), root)
		dir, _ := path.Split(rel)
		channel := dirs[strings.TrimSuffix(dir, "/")]
		valid := 0
		stopped := false
		err := rd.decodeFile(f, st, func(dec *json.Decoder, p *problems) error {
			return decodeList(dec, p, (*exportMessage).what,
				func(i int, e *exportMessage) error {
					e.problems(p, i)
					m, ok := e.normalized(channel)
					if !ok {
						if e.TS.S != "" {
							p.add(e.what(i), "ts", "not a Slack timestamp")
						}
						return nil
					}
					if text, whole := cutText(m.Text); !whole {
						m.Text = text
						p.add(e.what(i), "text", "longer than Slack's 40,000 characters: cut there")
					}
					if e.UserProfile != nil && m.User != "" && !known[m.User] {
						if _, ok := authors[m.User]; !ok {
							authors[m.User] = User{ID: m.User, RealName: e.UserProfile.RealName, DisplayName: e.UserProfile.DisplayName,
								Avatar: firstOf(e.UserProfile.Image48, e.UserProfile.Image72)}
						}
					}
					batch.messages = append(batch.messages, m)
					batch.last = rel
					valid++
					if len(batch.messages) == importBatch && !send() {
						stopped = true
						return ctx.Err()
					}
					return nil
				})
		})
		st.Messages += valid
		if stopped {
			return nil
		}
		if errors.As(err, new(errTotalLimit)) {
			return err
		}
		if err != nil {
			st.Malformed = append(st.Malformed, fmt.Sprintf("%s: %v", rel, err))
		} else {
			st.DayFiles++
		}
		bar.update(k+1, st.Messages)
	}
	if len(batch.messages) > 0 {
		send()
	}
	return nil
}

// sortedByTS returns ms in ts order, messages with the same ts in their
// order in ms (a stable sort): by sorting their indexes and then copying
// each message once, as a message is large to swap around.
func sortedByTS(ms []Message) []Message {
	if slices.IsSortedFunc(ms, func(x, y Message) int { return strings.Compare(x.TS, y.TS) }) {
		return ms
	}
	idx := make([]int32, len(ms))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int { return cmp.Or(strings.Compare(ms[i].TS, ms[j].TS), cmp.Compare(i, j)) })
	out := make([]Message, len(ms), cap(ms))
	for k, i := range idx {
		out[k] = ms[i]
	}
	return out
}

// normalized is e as the archive keeps it, in channel; ok is false for
// what is not a message (no usable ts).
func (e *exportMessage) normalized(channel string) (m Message, ok bool) {
	if e.TS.S == "" {
		return m, false
	}
	m = e.message(channel)
	var err error
	if m.TS, err = NormalizeTS(m.TS); err != nil {
		return m, false
	}
	if m.ThreadTS != "" {
		if m.ThreadTS, err = NormalizeTS(m.ThreadTS); err != nil {
			m.ThreadTS = ""
		}
	}
	if m.Edited != "" {
		if m.Edited, err = NormalizeTS(m.Edited); err != nil {
			m.Edited = ""
		}
	}
	return m, true
}

// exportRoot is the folder holding channels.json: "" for a zip of the
// export's contents, "name/" for a zip of its folder.
func exportRoot(files map[string]*zip.File) string {
	if files["channels.json"] != nil {
		return ""
	}
	for name := range files {
		if dir, file := path.Split(name); file == "channels.json" && strings.Count(dir, "/") == 1 {
			return dir
		}
	}
	return ""
}

// reading is what one import has read, against its limits.
type reading struct {
	limits ImportLimits
	total  int64 // bytes decompressed so far
}

// decodeFile opens f and hands fn a decoder over it and a problem list
// for it; the values fn's decoding could not read are added to st's
// report. The error is the file's: unreadable, not JSON to its end,
// damaged (its CRC, checked by reading it to its end), or beyond a limit.
func (rd *reading) decodeFile(f *zip.File, st *ImportStats, fn func(dec *json.Decoder, p *problems) error) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	br := &boundedReader{r: rc, total: &rd.total, limits: rd.limits}
	p := problems{file: f.Name, bound: br}
	err = fn(json.NewDecoder(br), &p)
	if err == nil {
		br.entryAt = 0
		_, err = io.Copy(io.Discard, br) // to the end, where zip checks the CRC
	}
	st.BadValues += p.count
	for _, n := range p.notes {
		if len(st.Problems) < maxProblemNotes {
			st.Problems = append(st.Problems, n)
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the file ends in the middle")
	}
	return err
}

// progress reports an import's advance: a redrawn bar on a terminal, a
// plain line every 5% otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	last  int // last percentage reported
	start time.Time
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, last: -1, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done, messages int) {
	if p.w == nil || p.total == 0 {
		return
	}
	pct := done * 100 / p.total
	if p.tty {
		if pct == p.last && done != p.total {
			return
		}
		const width = 30
		fill := pct * width / 100
		fmt.Fprintf(p.w, "\r[%s%s] %3d%%  %d/%d day files, %d messages", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), pct, done, p.total, messages)
	} else {
		if pct/5 == p.last/5 && p.last >= 0 {
			return
		}
		fmt.Fprintf(p.w, "imported %d/%d day files (%d%%), %d messages\n", done, p.total, pct, messages)
	}
	p.last = pct
}

func (p *progress) done(messages int) {
	if p.w == nil {
		return
	}
	if p.tty {
		fmt.Fprintln(p.w)
	}
	secs := time.Since(p.start).Seconds()
	if secs > 0 {
		fmt.Fprintf(p.w, "imported %d messages in %.1fs (%.0f/s)\n", messages, secs, float64(messages)/secs)
	}
}
