package sqlitearchive_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/store/sqlite"
)

func open(t *testing.T) *sqlitearchive.Archive {
	t.Helper()
	a, err := sqlitearchive.Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func ts(sec int) string { return archive.FormatTS(time.Unix(int64(1700000000+sec), 0)) }

func put(t *testing.T, a archive.Archive, ms ...archive.Message) int {
	t.Helper()
	n, err := a.PutMessages(t.Context(), ms)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFTS5CompiledIn(t *testing.T) {
	t.Parallel()
	a := open(t)
	put(t, a, archive.Message{Channel: "C1", TS: ts(1), User: "U1", Text: "hello"})
	res, err := a.Search(t.Context(), archive.Query{Terms: []archive.Term{{Text: "hello"}}})
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("FTS5 search = %v, %v; want one hit (is FTS5 compiled into modernc.org/sqlite?)", res, err)
	}
}

func TestSharesTheStoreDatabaseFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "townhall.db")
	st, err := sqlite.OpenStore(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := sqlitearchive.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	put(t, a, archive.Message{Channel: "C1", TS: ts(1), Text: "x"})
	if err := st.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if a, err = sqlitearchive.Open(t.Context(), path); err != nil { // migrations run once
		t.Fatal(err)
	}
	defer a.Close()
	ro, err := sqlitearchive.OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if s, err := ro.Stats(t.Context()); err != nil || s.Messages != 1 {
		t.Fatalf("read-only stats = %+v, %v", s, err)
	}
	if _, err := ro.PutMessages(t.Context(), []archive.Message{{Channel: "C1", TS: ts(2)}}); err == nil {
		t.Fatal("a read-only archive accepted a write")
	}
}

func TestPutMessagesIsIdempotent(t *testing.T) {
	t.Parallel()
	a := open(t)
	ctx := t.Context()
	m := archive.Message{Channel: "C1", TS: ts(1), User: "U1", Text: "first"}
	if n := put(t, a, m, m); n != 1 {
		t.Fatalf("added %d, want 1", n)
	}
	if n := put(t, a, m); n != 0 {
		t.Fatalf("added %d on redelivery, want 0", n)
	}
	edited := m
	edited.Text, edited.Edited = "second", ts(5)
	put(t, a, edited)
	put(t, a, m) // an older copy (an old export) does not undo the edit
	got, ok, err := a.Message(ctx, "C1", m.TS)
	if err != nil || !ok || got.Text != "second" || got.Edited != ts(5) {
		t.Fatalf("after edit: %+v %v %v", got, ok, err)
	}
	if hits := search(t, a, "first"); len(hits) != 0 {
		t.Fatalf("the old text is still found: %v", hits)
	}
	if hits := search(t, a, "second"); len(hits) != 1 {
		t.Fatalf("the new text is not found: %v", hits)
	}
	c, _, _ := a.Channel(ctx, "C1")
	if c.Messages != 1 || c.Last != m.TS {
		t.Fatalf("channel counts = %+v", c)
	}
}

func TestRemoveAndDeleteAreForever(t *testing.T) {
	t.Parallel()
	a := open(t)
	ctx := t.Context()
	m1 := archive.Message{Channel: "C1", TS: ts(1), Text: "secret plan"}
	m2 := archive.Message{Channel: "C1", TS: ts(2), Text: "public plan"}
	put(t, a, m1, m2)
	if err := a.Remove(ctx, "C1", m1.TS); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "C1", m2.TS); err != nil {
		t.Fatal(err)
	}
	if n := put(t, a, m1, m2); n != 0 {
		t.Fatalf("removed messages came back: %d", n)
	}
	if hits := search(t, a, "plan"); len(hits) != 0 {
		t.Fatalf("removed messages are found: %v", hits)
	}
	s, _ := a.Stats(ctx)
	if s.Messages != 0 || s.Removed != 2 {
		t.Fatalf("stats = %+v", s)
	}
}

func search(t *testing.T, a archive.Archive, query string) []string {
	t.Helper()
	q, err := archive.ParseQuery(query, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Search(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Text)
	}
	return out
}

func TestSearchLanguages(t *testing.T) {
	t.Parallel()
	a := open(t)
	texts := []string{
		"Réunion du comité à 18h",
		"اجتماع اللجنة غداً في المكتب",
		"Собрание в четверг, приходите",
		"明天下午三点开会议，请准时",
		"来週の会議は火曜日です",
		"The *budget* meeting moved to Friday",
		"Naïve café owners &amp; friends",
	}
	for i, s := range texts {
		put(t, a, archive.Message{Channel: "C1", TS: ts(i), User: "U1", Text: s})
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"reunion", texts[0:1]},
		{"RÉUNION comite", texts[0:1]},
		{"اللجنة", texts[1:2]},
		{"собрание", texts[2:3]},
		{"Четверг", texts[2:3]},
		{"会议", texts[3:4]},
		{"開会", nil},
		{"午", texts[3:4]},
		{"議", texts[4:5]},
		{"会議", texts[4:5]},
		{"火曜日", texts[4:5]},
		{"budget", texts[5:6]},
		{`"meeting moved"`, texts[5:6]},
		{`"moved meeting"`, nil},
		{"bud*", texts[5:6]},
		{"naive cafe", texts[6:7]},
		{"friends &", texts[6:7]},
		{"meet", texts[5:6]}, // meeting: stemmed
		{`" OR "`, nil},
		{`NEAR(a b)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := search(t, a, tt.query)
			if !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func TestSearchFilters(t *testing.T) {
	t.Parallel()
	a := open(t)
	ctx := t.Context()
	for _, c := range []archive.Channel{{ID: "C1", Name: "general"}, {ID: "C2", Name: "random"}} {
		if err := a.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []archive.User{{ID: "U1", Name: "ada"}, {ID: "U2", Name: "bob", DisplayName: "Bobby"}} {
		if err := a.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	day := func(d, h int) string {
		return archive.FormatTS(time.Date(2024, 3, d, h, 0, 0, 0, time.UTC))
	}
	put(t, a,
		archive.Message{Channel: "C1", TS: day(1, 9), User: "U1", Text: "lunch one"},
		archive.Message{Channel: "C1", TS: day(2, 9), User: "U2", Text: "lunch two"},
		archive.Message{Channel: "C2", TS: day(3, 9), User: "U1", Text: "lunch three lunch"},
		archive.Message{Channel: "C2", TS: day(4, 9), User: "U2", Text: "dinner four"},
	)
	tests := []struct {
		query string
		want  []string
	}{
		{"lunch in:#general", []string{"lunch two", "lunch one"}},
		{"lunch in:<#C2|random>", []string{"lunch three lunch"}},
		{"lunch in:#nowhere", nil},
		{"lunch from:@ada", []string{"lunch three lunch", "lunch one"}},
		{"from:@Bobby", []string{"dinner four", "lunch two"}},
		{"from:<@U2> in:#random", []string{"dinner four"}},
		{"lunch on:2024-03-02", []string{"lunch two"}},
		{"lunch after:2024-03-01", []string{"lunch three lunch", "lunch two"}},
		{"lunch before:2024-03-02", []string{"lunch one"}},
		{"after:2024-03-01 before:2024-03-04", []string{"lunch three lunch", "lunch two"}},
		{"lunch after:1900-01-01 before:9999-12-31", []string{"lunch three lunch", "lunch two", "lunch one"}},
		{"lunch after:9999-12-31", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := archive.ParseQuery(tt.query, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			q.Newest = true
			if len(q.Terms) > 0 && tt.query == "lunch from:@ada" {
				q.Newest = false // ranked: the message saying lunch twice first
			}
			res, err := a.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.Text)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %q, want %q", tt.query, got, tt.want)
			}
		})
	}

	t.Run("opt-out", func(t *testing.T) {
		if err := a.SetOptOut(ctx, "U2", true); err != nil {
			t.Fatal(err)
		}
		defer a.SetOptOut(ctx, "U2", false)
		if got := search(t, a, "lunch two"); len(got) != 0 {
			t.Errorf("an opted-out member's message is found: %q", got)
		}
		m, _, _ := a.Message(ctx, "C1", day(2, 9))
		if !m.Hidden {
			t.Error("an opted-out member's message is not marked hidden")
		}
		u, _, _ := a.User(ctx, "U2")
		if u.Name != "bob" || !u.OptedOut {
			t.Errorf("opt-out changed the user: %+v", u)
		}
	})

	t.Run("pages", func(t *testing.T) {
		q := archive.Query{Terms: []archive.Term{{Text: "lunch"}}, Newest: true, Limit: 2}
		p1, err := a.Search(ctx, q)
		if err != nil || len(p1.Hits) != 2 || !p1.More {
			t.Fatalf("page 1 = %+v, %v", p1, err)
		}
		q.Offset = 2
		p2, err := a.Search(ctx, q)
		if err != nil || len(p2.Hits) != 1 || p2.More || p2.Hits[0].Text != "lunch one" || p2.Hits[0].ChannelName != "general" {
			t.Fatalf("page 2 = %+v, %v", p2, err)
		}
	})
}

func TestThreadsAndDays(t *testing.T) {
	t.Parallel()
	a := open(t)
	ctx := t.Context()
	put(t, a,
		archive.Message{Channel: "C1", TS: ts(10), ThreadTS: ts(10), Text: "parent"},
		archive.Message{Channel: "C1", TS: ts(20), ThreadTS: ts(10), Text: "reply 1"},
		archive.Message{Channel: "C1", TS: ts(30), ThreadTS: ts(10), Text: "reply 2"},
		archive.Message{Channel: "C1", TS: ts(40), Text: "plain", Reactions: []archive.Reaction{{Name: "tada", Count: 2, Users: []string{"U1", "U2"}}}},
	)
	top, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", TopLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(top) != 2 || top[0].ReplyCount != 2 || top[0].LastReply != ts(30) || top[1].Reactions[0].Name != "tada" {
		t.Fatalf("top level = %+v", top)
	}
	thread, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", ThreadTS: ts(10)})
	if err != nil || len(thread) != 3 {
		t.Fatalf("thread = %+v, %v", thread, err)
	}
	replies, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", Since: ts(15), Replies: true})
	if err != nil || len(replies) != 2 || replies[0].Text != "reply 1" || replies[1].Text != "reply 2" {
		t.Fatalf("replies = %+v, %v", replies, err)
	}
	last, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", Before: ts(40), Desc: true, Limit: 1})
	if err != nil || len(last) != 1 || last[0].Text != "reply 2" {
		t.Fatalf("before = %+v, %v", last, err)
	}
	var n int
	if err := a.Each(ctx, "C1", ts(20), func(archive.Message) error { n++; return nil }); err != nil || n != 3 {
		t.Fatalf("each = %d, %v", n, err)
	}
	if err := a.SetState(ctx, archive.StateLastBackup, "x"); err != nil {
		t.Fatal(err)
	}
	if v, err := a.State(ctx, archive.StateLastBackup); v != "x" || err != nil {
		t.Fatalf("state = %q, %v", v, err)
	}
	if v, err := a.State(ctx, "missing"); v != "" || err != nil {
		t.Fatalf("missing state = %q, %v", v, err)
	}
}

// TestSameMicrosecondInManyChannels: exports with whole-second timestamps
// put many channels' messages at one instant; each keeps its own id.
func TestSameMicrosecondInManyChannels(t *testing.T) {
	t.Parallel()
	a := open(t)
	ctx := t.Context()
	var ms []archive.Message
	for c := range 300 {
		ms = append(ms, archive.Message{Channel: fmt.Sprintf("C%03d", c), TS: ts(1), Text: fmt.Sprintf("hello from %d", c)})
	}
	if n, err := a.PutMessages(ctx, ms[:256]); n != 256 || err != nil {
		t.Fatalf("put 256 at one instant = %d, %v", n, err)
	}
	if n := put(t, a, ms[:256]...); n != 0 {
		t.Fatalf("again: added %d", n)
	}
	if _, err := a.PutMessages(ctx, ms[256:257]); err == nil || !strings.Contains(err.Error(), "same microsecond") {
		t.Fatalf("a 257th message at one instant: %v; want an error saying so", err)
	}
	q := archive.Query{Terms: []archive.Term{{Text: "hello"}}, Limit: 200}
	res, err := a.Search(ctx, q)
	if err != nil || len(res.Hits) != 200 || !res.More {
		t.Fatalf("search = %d hits, more %v, %v", len(res.Hits), res.More, err)
	}
	if got := search(t, a, "hello in:C123"); !slices.Equal(got, []string{"hello from 123"}) {
		t.Errorf("in:C123 = %q", got)
	}
	if err := a.Delete(ctx, "C007", ts(1)); err != nil {
		t.Fatal(err)
	}
	if got := search(t, a, "hello in:C007"); len(got) != 0 {
		t.Errorf("a deleted message is found: %q", got)
	}
	if got := search(t, a, "hello in:C008"); len(got) != 1 {
		t.Errorf("deleting another channel's message at the same instant hid this one: %q", got)
	}
}

// TestReplyCounts: a parent's reply count and latest reply follow its
// replies, whatever order they arrive in.
func TestReplyCounts(t *testing.T) {
	t.Parallel()
	a := open(t)
	ctx := t.Context()
	parent := archive.Message{Channel: "C1", TS: ts(10), Text: "parent"}
	check := func(when string, count int, last string) {
		t.Helper()
		m, ok, err := a.Message(ctx, "C1", parent.TS)
		if err != nil || !ok || m.ReplyCount != count || m.LastReply != last {
			t.Errorf("%s: parent = %d replies, last %q (%v, %v); want %d, %q", when, m.ReplyCount, m.LastReply, ok, err, count, last)
		}
	}
	// Replies first (catch-up may read them before their parent).
	put(t, a, archive.Message{Channel: "C1", TS: ts(30), ThreadTS: ts(10), Text: "reply 2"},
		archive.Message{Channel: "C2", TS: ts(40), ThreadTS: ts(10), Text: "another channel's thread"})
	put(t, a, parent) // not yet marked as a thread parent
	check("before the parent is marked", 0, "")
	parent.ThreadTS = parent.TS
	put(t, a, parent)
	check("parent marked", 1, ts(30))
	put(t, a, archive.Message{Channel: "C1", TS: ts(20), ThreadTS: ts(10), Text: "reply 1"})
	check("an earlier reply", 2, ts(30))
	if err := a.Delete(ctx, "C1", ts(30)); err != nil {
		t.Fatal(err)
	}
	check("latest reply deleted", 1, ts(20))
	if err := a.Remove(ctx, "C1", ts(20)); err != nil {
		t.Fatal(err)
	}
	check("last reply removed", 0, "")
	top, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", TopLevel: true})
	if err != nil || len(top) != 1 || top[0].ReplyCount != 0 {
		t.Fatalf("top level = %+v, %v", top, err)
	}
}

// TestOddIDs: IDs that are not Slack's letters and digits (a hand-made
// export) still filter exactly.
func TestOddIDs(t *testing.T) {
	t.Parallel()
	a := open(t)
	ctx := t.Context()
	for _, c := range []archive.Channel{{ID: "C 1", Name: "one"}, {ID: "C", Name: "c"}, {ID: "C-1", Name: "minus"}} {
		if err := a.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"U 1", "U", "U-1"} {
		if err := a.PutUser(ctx, archive.User{ID: u}); err != nil {
			t.Fatal(err)
		}
	}
	put(t, a,
		archive.Message{Channel: "C 1", TS: ts(1), User: "U 1", Text: "hello one"},
		archive.Message{Channel: "C", TS: ts(2), User: "U", Text: "hello c"},
		archive.Message{Channel: "C-1", TS: ts(3), User: "U-1", Text: "hello minus"},
	)
	for query, want := range map[string][]string{
		"hello in:#one":   {"hello one"},
		"hello in:#c":     {"hello c"},
		"hello in:#minus": {"hello minus"},
		"from:<@U-1>":     {"hello minus"},
		"from:<@U>":       {"hello c"},
	} {
		if got := search(t, a, query); !slices.Equal(got, want) {
			t.Errorf("%q = %q, want %q", query, got, want)
		}
	}
}
