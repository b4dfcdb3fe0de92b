package archive_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
)

func openArchive(t testing.TB) *sqlitearchive.Archive {
	t.Helper()
	a, err := sqlitearchive.Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// zipOf builds a zip from file names and contents (strings, or values
// marshalled as JSON).
func zipOf(t testing.TB, files map[string]any) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		var b []byte
		if s, ok := files[n].(string); ok {
			b = []byte(s)
		} else if b, err = json.Marshal(files[n]); err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

type msg = map[string]any

// sampleExport is a small Slack export with a public channel whose thread
// spans two days, private conversations, and a malformed day file.
func sampleExport(t testing.TB) *bytes.Reader {
	return zipOf(t, map[string]any{
		"users.json": []msg{
			{"id": "U1", "name": "ada", "profile": msg{"real_name": "Ada Lovelace", "display_name": "ada", "image_48": "https://a/1.png"}},
			{"id": "U2", "name": "bob", "profile": msg{"real_name": "Bob", "display_name": ""}},
		},
		"channels.json": []msg{
			{"id": "C1", "name": "general", "created": 1700000000, "topic": msg{"value": "All things"}, "purpose": msg{"value": "Chat"}},
			{"id": "C2", "name": "dev", "created": 1700000000, "is_archived": true},
		},
		"groups.json": []msg{{"id": "G1", "name": "secret-group"}},
		"dms.json":    []msg{{"id": "D1"}, {"id": "D2"}},
		"mpims.json":  []msg{{"id": "G2", "name": "mpdm-ada--bob-1"}},
		"general/2023-11-14.json": []msg{
			{"type": "message", "subtype": "channel_join", "user": "U1", "text": "<@U1> has joined the channel", "ts": "1699990000.000100"},
			{"type": "message", "user": "U1", "text": "Plans for the *réunion*?", "ts": "1699990100.000200", "thread_ts": "1699990100.000200",
				"reply_count": 2, "reactions": []msg{{"name": "tada", "count": 1, "users": []string{"U2"}}}},
			{"type": "message", "user": "U2", "text": "Friday works", "ts": "1699990200.000300", "thread_ts": "1699990100.000200",
				"edited": msg{"user": "U2", "ts": "1699990250.000000"}},
		},
		"general/2023-11-15.json": []msg{
			{"type": "message", "user": "U1", "text": "Late reply", "ts": "1700050000.000400", "thread_ts": "1699990100.000200"},
			{"type": "message", "subtype": "bot_message", "username": "Feedbot", "bot_id": "B1", "text": "", "ts": "1700050100.000500",
				"attachments": []msg{{"fallback": "New post: hello"}}},
			{"type": "message", "subtype": "file_share", "user": "U2", "text": "minutes", "ts": "1700050200.000600",
				"files": []msg{{"id": "F1", "name": "minutes.pdf", "title": "Minutes", "permalink": "https://slack/files/F1"}}},
		},
		"general/2023-11-16.json":         "[{\"type\": \"message\", \"ts\": ",
		"dev/2023-11-14.json":             []msg{{"type": "message", "user": "U2", "text": "会议 at noon", "ts": "1699990000.000700"}},
		"secret-group/2023-11-14.json":    []msg{{"type": "message", "user": "U1", "text": "PRIVATE", "ts": "1699990000.000800"}},
		"D1/2023-11-14.json":              []msg{{"type": "message", "user": "U1", "text": "PRIVATE DM", "ts": "1699990000.000900"}},
		"mpdm-ada--bob-1/2023-11-14.json": []msg{{"type": "message", "user": "U1", "text": "PRIVATE MPIM", "ts": "1699990000.001000"}},
	})
}

func dump(t testing.TB, a archive.Archive) []archive.Message {
	t.Helper()
	chans, err := a.Channels(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []archive.Message
	for _, c := range chans {
		if err := a.Each(t.Context(), c.ID, "", func(m archive.Message) error { out = append(out, m); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestImport(t *testing.T) {
	t.Parallel()
	a := openArchive(t)
	ctx := t.Context()
	r := sampleExport(t)
	var progress bytes.Buffer
	st, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if st.Channels != 2 || st.Users != 2 || st.Messages != 7 || st.Added != 7 || st.DayFiles != 3 ||
		st.Private != 4 || st.PrivateFiles != 3 || len(st.Malformed) != 1 || !strings.HasPrefix(st.Malformed[0], "general/2023-11-16.json: ") {
		t.Fatalf("stats = %+v", st)
	}
	if !strings.Contains(progress.String(), "imported 7 messages") {
		t.Errorf("progress = %q", progress.String())
	}
	for _, m := range dump(t, a) {
		if strings.Contains(m.Text, "PRIVATE") {
			t.Fatalf("private message imported: %+v", m)
		}
	}
	parent, ok, err := a.Message(ctx, "C1", "1699990100.000200")
	if err != nil || !ok || parent.ReplyCount != 2 || parent.Reactions[0].Name != "tada" {
		t.Fatalf("thread parent = %+v %v %v", parent, ok, err)
	}
	reply, _, _ := a.Message(ctx, "C1", "1699990200.000300")
	if reply.Edited != "1699990250.000000" {
		t.Errorf("edit mark lost: %+v", reply)
	}
	bot, _, _ := a.Message(ctx, "C1", "1700050100.000500")
	if bot.Username != "Feedbot" || bot.Text != "New post: hello\n" {
		t.Errorf("bot message = %+v", bot)
	}
	file, _, _ := a.Message(ctx, "C1", "1700050200.000600")
	if len(file.Files) != 1 || file.Files[0].Permalink != "https://slack/files/F1" {
		t.Errorf("file share = %+v", file)
	}
	dev, _, _ := a.Channel(ctx, "dev")
	if !dev.Archived || dev.Messages != 1 {
		t.Errorf("dev = %+v", dev)
	}

	again, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{})
	if err != nil || again.Added != 0 || again.Messages != 7 {
		t.Fatalf("second import = %+v, %v; want nothing added", again, err)
	}
}

// failingArchive fails every PutMessages after the first ok.
type failingArchive struct {
	*sqlitearchive.Archive
	ok    int
	calls int
}

func (f *failingArchive) PutMessages(ctx context.Context, ms []archive.Message) (int, error) {
	if f.calls++; f.calls > f.ok {
		return 0, errors.New("disk full")
	}
	return f.Archive.PutMessages(ctx, ms)
}

// TestImportStopsAtAStoreError: a failure to store ends the import with
// the day file it came from, and its reader stops (-race and the test's
// return show it does not outlive Import).
func TestImportStopsAtAStoreError(t *testing.T) {
	t.Parallel()
	files := map[string]any{"channels.json": []msg{{"id": "C1", "name": "general"}}}
	for d := range 4 { // 12,000 messages: three batches
		day := make([]msg, 0, 3000)
		for i := range cap(day) {
			day = append(day, msg{"type": "message", "user": "U1", "text": "hello", "ts": fmt.Sprintf("%d.000000", 1700000000+86400*d+i)})
		}
		files[fmt.Sprintf("general/2023-11-%02d.json", 14+d)] = day
	}
	r := zipOf(t, files)
	a := &failingArchive{Archive: openArchive(t), ok: 2}
	st, err := archive.Import(t.Context(), a, r, r.Size(), archive.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "general/2023-11-") {
		t.Fatalf("import = %v; want the store's error and the day file", err)
	}
	if st.Added != 10000 || a.calls != 3 {
		t.Errorf("added %d in %d calls; want 10000 in 3 (two stored, the third failed)", st.Added, a.calls)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := archive.Import(ctx, openArchive(t), r, r.Size(), archive.ImportOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled import = %v", err)
	}
}

// countingBulk counts the Bulk calls around an import's PutMessages.
type countingBulk struct {
	failingArchive
	begun, ended int
	outside      int // PutMessages calls not between a begin and its end
}

func (c *countingBulk) BeginBulk(ctx context.Context) (func(context.Context) error, error) {
	end, err := c.Archive.BeginBulk(ctx)
	if err != nil {
		return nil, err
	}
	c.begun++
	return func(ctx context.Context) error {
		c.ended++
		return end(ctx)
	}, nil
}

func (c *countingBulk) PutMessages(ctx context.Context, ms []archive.Message) (int, error) {
	if c.begun == c.ended {
		c.outside++
	}
	return c.failingArchive.PutMessages(ctx, ms)
}

// TestImportInBulk: Import tells an archive that implements archive.Bulk
// before its first batch and after its last, also when it fails.
func TestImportInBulk(t *testing.T) {
	t.Parallel()
	for _, ok := range []int{100, 0} { // every batch stored; the first fails
		r := sampleExport(t)
		a := &countingBulk{failingArchive: failingArchive{Archive: openArchive(t), ok: ok}}
		_, err := archive.Import(t.Context(), a, r, r.Size(), archive.ImportOptions{})
		if (err == nil) != (ok > 0) {
			t.Fatalf("ok=%d: import = %v", ok, err)
		}
		if a.begun != 1 || a.ended != 1 || a.outside != 0 {
			t.Errorf("ok=%d: %d begun, %d ended, %d batches outside; want 1, 1, 0", ok, a.begun, a.ended, a.outside)
		}
	}
}

func TestImportRejectsWhatIsNotAnExport(t *testing.T) {
	t.Parallel()
	a := openArchive(t)
	for name, r := range map[string]*bytes.Reader{
		"not a zip":       bytes.NewReader([]byte("hello")),
		"no channels":     zipOf(t, map[string]any{"users.json": []msg{}}),
		"channels broken": zipOf(t, map[string]any{"channels.json": "{"}),
	} {
		if _, err := archive.Import(t.Context(), a, r, r.Size(), archive.ImportOptions{}); err == nil {
			t.Errorf("%s: imported", name)
		}
	}
}

func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := openArchive(t)
	r := sampleExport(t)
	if _, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	st, err := archive.Export(ctx, a, &out, archive.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Channels != 2 || st.Messages != 7 || st.Days != 3 {
		t.Fatalf("export stats = %+v", st)
	}
	b := openArchive(t)
	if _, err := archive.Import(ctx, b, bytes.NewReader(out.Bytes()), int64(out.Len()), archive.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := dump(t, b), dump(t, a); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	ca, _ := a.Channels(ctx)
	cb, _ := b.Channels(ctx)
	ua, _ := a.Users(ctx)
	ub, _ := b.Users(ctx)
	if !reflect.DeepEqual(ca, cb) || !reflect.DeepEqual(ua, ub) {
		t.Errorf("channels or users differ:\n%+v\n%+v\n%+v\n%+v", ca, cb, ua, ub)
	}

	t.Run("filters and privacy", func(t *testing.T) {
		if err := a.SetOptOut(ctx, "U2", true); err != nil {
			t.Fatal(err)
		}
		if err := a.Remove(ctx, "C1", "1699990000.000100"); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		st, err := archive.Export(ctx, a, &out, archive.ExportOptions{Channels: []string{"general"}, Since: time.Unix(1699990050, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if st.Channels != 1 || st.Messages != 3 || st.Hidden != 2 {
			t.Fatalf("filtered export = %+v", st)
		}
		zr, _ := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		want := []string{"users.json", "channels.json", "general/2023-11-14.json", "general/2023-11-15.json"}
		if !slices.Equal(names, want) {
			t.Errorf("files = %q, want %q", names, want)
		}
	})
}

func TestBackupKeepsTheLastN(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := openArchive(t)
	dir := t.TempDir()
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	var names []string
	for d := range 4 {
		name, err := archive.Backup(ctx, a, dir, 2, at.AddDate(0, 0, d))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(name))
	}
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names[2:]) {
		t.Errorf("backups = %q, want %q", got, names[2:])
	}
	if v, _ := a.State(ctx, archive.StateLastBackup); !strings.Contains(v, names[3]) {
		t.Errorf("last backup state = %q", v)
	}
}

func FuzzImport(f *testing.F) {
	f.Add(`[{"type":"message","user":"U1","text":"hi","ts":"1700000000.000100"}]`)
	f.Add(`[{"ts":"x"},{"ts":"1700000000.1","thread_ts":"zz","edited":{"ts":"?"}}]`)
	f.Add(`{"not":"an array"}`)
	f.Add(`[{"ts":"99999999999.0"}`)
	a := openArchive(f)
	f.Fuzz(func(t *testing.T, day string) {
		r := zipOf(t, map[string]any{
			"channels.json":           []msg{{"id": "C1", "name": "general"}},
			"general/2024-01-01.json": day,
		})
		st, err := archive.Import(t.Context(), a, r, r.Size(), archive.ImportOptions{})
		if err != nil {
			t.Fatalf("a malformed day file failed the import: %v", err)
		}
		if st.DayFiles+len(st.Malformed) != 1 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

// TestImportNeverTakesPrivateChannelsFromChannelsJSON: an export written by
// another tool that lists a private channel in channels.json (marked
// is_private, listed in groups.json too, or with a G… ID) imports none of it.
func TestImportNeverTakesPrivateChannelsFromChannelsJSON(t *testing.T) {
	t.Parallel()
	a := openArchive(t)
	day := []msg{{"type": "message", "user": "U1", "text": "secret plans", "ts": "1709280000.000100"}}
	z := zipOf(t, map[string]any{
		"users.json": []msg{{"id": "U1", "name": "ada"}},
		"channels.json": []msg{
			{"id": "C0PUBLIC", "name": "general"},
			{"id": "C0MARKED", "name": "marked", "is_private": true},
			{"id": "C0LISTED", "name": "listed"},
			{"id": "G0LEGACY", "name": "legacy"},
		},
		"groups.json":             []msg{{"id": "C0LISTED", "name": "listed"}},
		"general/2024-03-01.json": []msg{{"type": "message", "user": "U1", "text": "hello all", "ts": "1709280000.000200"}},
		"marked/2024-03-01.json":  day,
		"listed/2024-03-01.json":  day,
		"legacy/2024-03-01.json":  day,
	})
	st, err := archive.Import(t.Context(), a, z, int64(z.Len()), archive.ImportOptions{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if st.Channels != 1 || st.Added != 1 {
		t.Errorf("want only #general imported (1 channel, 1 message), got %+v", st)
	}
	res, err := a.Search(t.Context(), archive.Query{Terms: []archive.Term{{Text: "secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 0 {
		t.Errorf("a private message was imported: %+v", res.Hits)
	}
}
