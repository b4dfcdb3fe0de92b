// Package archivetest is the conformance suite of archive.Archive: every
// implementation (sqlitearchive, pgarchive) runs Exercise and must pass it
// unchanged, so that the same writes give the same pages and the same
// searches the same results whichever database keeps the archive. Compare
// goes further and runs a multilingual corpus and a list of searches
// against two implementations at once, asserting identical results.
//
// Its assertions are what both can agree on: sets of matches, and order
// where it is defined (newest first; best first only where one match is
// clearly better). It also holds a generated Slack export and a benchmark
// (Benchmark) so implementations are measured on the same data.
//
// Extend this suite, not a driver's own tests, when the contract grows.
// It imports only the archive package and the standard library.
package archivetest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// Open returns a fresh, empty archive for one test and closes it when the
// test ends (t.Cleanup).
type Open func(t *testing.T) archive.Archive

// Exercise runs the whole suite, each case in a parallel subtest on an
// archive of its own.
func Exercise(t *testing.T, open Open) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, archive.Archive)
	}{
		{"PutMessagesIsIdempotent", testPutMessagesIsIdempotent},
		{"EditsInOneBatch", testEditsInOneBatch},
		{"RemoveAndDeleteAreForever", testRemoveAndDeleteAreForever},
		{"SearchLanguages", testSearchLanguages},
		{"SearchStems", testSearchStems},
		{"SearchFilters", testSearchFilters},
		{"SearchCount", testSearchCount},
		{"SearchEverythingAndDates", testSearchEverythingAndDates},
		{"SearchFilesAndEscapes", testSearchFilesAndEscapes},
		{"SearchOutOfTime", testSearchOutOfTime},
		{"ThreadsAndDays", testThreadsAndDays},
		{"ReplyCounts", testReplyCounts},
		{"SameInstantInManyChannels", testSameInstantInManyChannels},
		{"OddIDs", testOddIDs},
		{"ChannelsUsersAndStats", testChannelsUsersAndStats},
		{"OptOutHidesEverywhere", testOptOutHidesEverywhere},
		{"BadTimestamps", testBadTimestamps},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ImportNeverStoresPrivate", testImportNeverStoresPrivate},
		{"FileIndex", testFileIndex}, // files.go
		{"ExportRoundTrip", func(t *testing.T, a archive.Archive) { testExportRoundTrip(t, a, open(t)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

// TS is the canonical ts sec seconds after 2023-11-14T22:13:20Z.
func TS(sec int) string { return archive.FormatTS(time.Unix(int64(1700000000+sec), 0)) }

// Put stores ms and returns how many were new, failing the test on error.
func Put(t testing.TB, a archive.Archive, ms ...archive.Message) int {
	t.Helper()
	n, err := a.PutMessages(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Search runs query (parsed as a user's, in UTC) and returns the texts of
// the hits in order.
func Search(t testing.TB, a archive.Archive, query string, newest bool) []string {
	t.Helper()
	res := SearchResults(t, a, query, newest)
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Text)
	}
	return out
}

// SearchResults runs query and returns its results.
func SearchResults(t testing.TB, a archive.Archive, query string, newest bool) archive.Results {
	t.Helper()
	q, err := archive.ParseQuery(query, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	q.Newest = newest
	res, err := a.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	return res
}

func sorted(ss []string) []string {
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return ss
}

func testPutMessagesIsIdempotent(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	m := archive.Message{Channel: "C1", TS: TS(1), User: "U1", Text: "first"}
	if n := Put(t, a, m, m); n != 1 {
		t.Fatalf("added %d, want 1", n)
	}
	if n := Put(t, a, m); n != 0 {
		t.Fatalf("added %d on redelivery, want 0", n)
	}
	edited := m
	edited.Text, edited.Edited = "second", TS(5)
	if n := Put(t, a, edited); n != 0 {
		t.Fatalf("an edit counted as new: %d", n)
	}
	Put(t, a, m) // an older copy (an old export) does not undo the edit
	got, ok, err := a.Message(ctx, "C1", m.TS)
	if err != nil || !ok || got.Text != "second" || got.Edited != TS(5) {
		t.Fatalf("after edit: %+v %v %v", got, ok, err)
	}
	if hits := Search(t, a, "first", false); len(hits) != 0 {
		t.Fatalf("the old text is still found: %v", hits)
	}
	if hits := Search(t, a, "second", false); len(hits) != 1 {
		t.Fatalf("the new text is not found: %v", hits)
	}
	c, _, _ := a.Channel(ctx, "C1")
	if c.Messages != 1 || c.Last != m.TS {
		t.Fatalf("channel counts = %+v", c)
	}
	// A ts written otherwise (an export's, a URL's) is the same message.
	short := m
	short.TS = strings.TrimRight(m.TS, "0")
	short.Text, short.Edited = "third", TS(6)
	if n := Put(t, a, short); n != 0 {
		t.Fatalf("a differently written ts counted as new: %d", n)
	}
	if got, _, _ := a.Message(ctx, "C1", short.TS); got.Text != "third" || got.TS != m.TS {
		t.Fatalf("by short ts: %+v", got)
	}
}

func testEditsInOneBatch(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	m := archive.Message{Channel: "C1", TS: TS(1), User: "U1", Text: "draft"}
	e1 := m
	e1.Text, e1.Edited = "final", TS(9)
	e0 := m
	e0.Text, e0.Edited = "middle", TS(5)
	if n := Put(t, a, m, e1, e0); n != 1 {
		t.Fatalf("added %d, want 1", n)
	}
	if got, _, _ := a.Message(ctx, "C1", m.TS); got.Text != "final" {
		t.Fatalf("copies in one batch left %q, want the latest edit", got.Text)
	}
	n2 := archive.Message{Channel: "C1", TS: TS(2), Text: "one"}
	n2b := n2
	n2b.Text = "two" // same edit time: the later copy wins
	Put(t, a, n2, n2b)
	if got, _, _ := a.Message(ctx, "C1", n2.TS); got.Text != "two" {
		t.Fatalf("equal copies left %q, want the last", got.Text)
	}
	if got := Search(t, a, "final", false); !slices.Equal(got, []string{"final"}) {
		t.Fatalf("search final = %q", got)
	}
	if got := Search(t, a, "draft", false); len(got) != 0 {
		t.Fatalf("search draft = %q", got)
	}
	// A reaction added later replaces the stored copy; a bot's ID alone
	// does not count as a change.
	r := n2b
	r.Reactions = []archive.Reaction{{Name: "tada", Count: 1, Users: []string{"U1"}}}
	Put(t, a, r)
	if got, _, _ := a.Message(ctx, "C1", n2.TS); len(got.Reactions) != 1 || got.Reactions[0].Name != "tada" {
		t.Fatalf("reactions = %+v", got.Reactions)
	}
	if c, _, _ := a.Channel(ctx, "C1"); c.Messages != 2 {
		t.Fatalf("channel counts %d messages, want 2", c.Messages)
	}
}

func testRemoveAndDeleteAreForever(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	m1 := archive.Message{Channel: "C1", TS: TS(1), Text: "secret plan"}
	m2 := archive.Message{Channel: "C1", TS: TS(2), Text: "public plan"}
	m3 := archive.Message{Channel: "C1", TS: TS(3), Text: "later plan"}
	Put(t, a, m1, m2, m3)
	if err := a.Remove(ctx, "C1", m1.TS); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "C1", m3.TS); err != nil {
		t.Fatal(err)
	}
	c, _, _ := a.Channel(ctx, "C1")
	if c.Messages != 1 || c.Last != m2.TS {
		t.Fatalf("after removing the newest: channel = %+v; want 1 message, last %s", c, m2.TS)
	}
	if err := a.Delete(ctx, "C1", m2.TS); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, "C1", m2.TS); err != nil { // twice: no harm
		t.Fatal(err)
	}
	if n := Put(t, a, m1, m2, m3); n != 0 {
		t.Fatalf("removed messages came back: %d", n)
	}
	if hits := Search(t, a, "plan", false); len(hits) != 0 {
		t.Fatalf("removed messages are found: %v", hits)
	}
	if _, ok, _ := a.Message(ctx, "C1", m1.TS); ok {
		t.Fatal("a removed message is still read")
	}
	s, _ := a.Stats(ctx)
	if s.Messages != 0 || s.Removed != 3 || s.Channels != 1 {
		t.Fatalf("stats = %+v", s)
	}
	c, _, _ = a.Channel(ctx, "C1")
	if c.Messages != 0 || c.Last != "" {
		t.Fatalf("channel = %+v; want no messages", c)
	}
	if err := a.Remove(ctx, "C9", "1700000000.000001"); err != nil { // not stored: remembered anyway
		t.Fatal(err)
	}
	if n := Put(t, a, archive.Message{Channel: "C9", TS: "1700000000.000001", Text: "x"}); n != 0 {
		t.Fatalf("a message removed before it was stored was stored: %d", n)
	}
}

func testSearchLanguages(t *testing.T, a archive.Archive) {
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
		Put(t, a, archive.Message{Channel: "C1", TS: TS(i), User: "U1", Text: s})
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
		{`"会議は火曜"`, texts[4:5]},
		{"budget", texts[5:6]},
		{`"meeting moved"`, texts[5:6]},
		{`"moved meeting"`, nil},
		{"bud*", texts[5:6]},
		{"naive cafe", texts[6:7]},
		{"friends &", texts[6:7]},
		{"meet", texts[5:6]}, // meeting: stemmed
		{`" OR "`, nil},
		{`NEAR(a b)`, nil},
		{`'quoted' \back & | ! <-> :*`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := Search(t, a, tt.query, false); !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func testSearchStems(t *testing.T, a archive.Archive) {
	texts := []string{
		"We need volunteers for the garden festival on Saturday",   // 0
		"Thanks to every volunteer who came!",                      // 1
		"Les réunions du comité auront lieu le mardi",              // 2
		"Buscamos voluntarios para las reuniones de la asociación", // 3
		"Встречи клуба проходят по четвергам",                      // 4
		"Спасибо всем, кто пришёл на встречу",                      // 5
		"تم تأجيل الاجتماع إلى الأسبوع القادم",                     // 6
		"اجتماعات اللجنة مفتوحة للجميع",                            // 7
		"明天的会议取消了",                                                 // 8
		"The meeting of the volunteering committee was short",      // 9
		"Nous avons vu des chevaux près de la rivière",             // 10
		"وبالاجتماعات القادمة نناقش الميزانية",                     // 11: and-with-the-meetings
		"للمكتبة ساعات جديدة",                                      // 12: for-the-library
	}
	for i, s := range texts {
		Put(t, a, archive.Message{Channel: "C1", TS: TS(i), User: "U1", Text: s})
	}
	pick := func(ks ...int) []string {
		var out []string
		for _, k := range ks {
			out = append(out, texts[k])
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"volunteer", pick(0, 1, 9)},
		{"volunteers", pick(0, 1, 9)},
		{"réunion", pick(2, 3)},
		{"reunion", pick(2, 3)},
		{"voluntario", pick(3)},
		{"встреча", pick(4, 5)},
		{"встречи", pick(4, 5)},
		{"اجتماع", pick(6, 7, 11)},
		{"الاجتماع", pick(6, 7, 11)},
		{"اجتماعات", pick(6, 7, 11)},
		{"لجنة", pick(7)},
		{"مكتبة", pick(12)},
		{"cheval", pick(10)},
		{"会议", pick(8)},
		{`"the volunteers"`, nil}, // a phrase is matched as written
		{`"need volunteers"`, pick(0)},
		{"volunteers garden", pick(0)},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := sorted(Search(t, a, tt.query, false))
			if want := sorted(tt.want); !slices.Equal(got, want) {
				t.Errorf("search %q = %q, want %q", tt.query, got, want)
			}
		})
	}
}

func testSearchFilters(t *testing.T, a archive.Archive) {
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
	Put(t, a,
		archive.Message{Channel: "C1", TS: day(1, 9), User: "U1", Text: "lunch one"},
		archive.Message{Channel: "C1", TS: day(2, 9), User: "U2", Text: "lunch two"},
		archive.Message{Channel: "C2", TS: day(3, 9), User: "U1", Text: "lunch three lunch"},
		archive.Message{Channel: "C2", TS: day(4, 9), User: "U2", Text: "dinner four"},
	)
	tests := []struct {
		query  string
		ranked bool
		want   []string
	}{
		{"lunch in:#general", false, []string{"lunch two", "lunch one"}},
		{"lunch in:<#C2|random>", false, []string{"lunch three lunch"}},
		{"lunch in:C1", false, []string{"lunch two", "lunch one"}},
		{"lunch in:#general in:#random", false, []string{"lunch three lunch", "lunch two", "lunch one"}},
		{"lunch in:#nowhere", false, nil},
		{"lunch from:@ada", false, []string{"lunch three lunch", "lunch one"}},
		{"lunch from:@ada", true, []string{"lunch three lunch", "lunch one"}}, // the message saying lunch twice first
		{"from:@Bobby", false, []string{"dinner four", "lunch two"}},
		{"from:@BOB", false, []string{"dinner four", "lunch two"}},
		{"from:<@U2> in:#random", false, []string{"dinner four"}},
		{"from:@nobody", false, nil},
		{"lunch on:2024-03-02", false, []string{"lunch two"}},
		{"lunch after:2024-03-01", false, []string{"lunch three lunch", "lunch two"}},
		{"lunch before:2024-03-02", false, []string{"lunch one"}},
		{"after:2024-03-01 before:2024-03-04", false, []string{"lunch three lunch", "lunch two"}},
		{"lunch after:1900-01-01 before:9999-12-31", false, []string{"lunch three lunch", "lunch two", "lunch one"}},
		{"lunch after:9999-12-31", false, nil},
		{"lunch before:1950-01-01", false, nil},
		{"before:1950-01-01", false, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s ranked=%v", tt.query, tt.ranked), func(t *testing.T) {
			if got := Search(t, a, tt.query, !tt.ranked); !slices.Equal(got, tt.want) {
				t.Errorf("search %q = %q, want %q", tt.query, got, tt.want)
			}
		})
	}

	t.Run("opt-out", func(t *testing.T) {
		if err := a.SetOptOut(ctx, "U2", true); err != nil {
			t.Fatal(err)
		}
		defer a.SetOptOut(ctx, "U2", false)
		for _, q := range []string{"lunch two", "from:@bob", "two", "dinner in:#random", "on:2024-03-02"} {
			if got := Search(t, a, q, false); len(got) != 0 {
				t.Errorf("%q: an opted-out member's message is found: %q", q, got)
			}
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
		if err != nil || len(p1.Hits) != 2 || !p1.More || p1.Count != 3 || p1.CountMore {
			t.Fatalf("page 1 = %+v, %v", p1, err)
		}
		if h := p1.Hits[0]; h.Text != "lunch three lunch" || h.ChannelName != "random" || h.Channel != "C2" || h.User != "U1" || h.TS != day(3, 9) {
			t.Errorf("first hit = %+v", h)
		}
		q.Offset = 2
		p2, err := a.Search(ctx, q)
		if err != nil || len(p2.Hits) != 1 || p2.More || p2.Hits[0].Text != "lunch one" || p2.Hits[0].ChannelName != "general" || p2.Count != 3 {
			t.Fatalf("page 2 = %+v, %v", p2, err)
		}
		q.Offset = 10
		p3, err := a.Search(ctx, q)
		if err != nil || len(p3.Hits) != 0 || p3.More {
			t.Fatalf("page past the end = %+v, %v", p3, err)
		}
		q.Newest, q.Offset = false, 0
		r1, err := a.Search(ctx, q)
		if err != nil || len(r1.Hits) != 2 || !r1.More || r1.Hits[0].Text != "lunch three lunch" {
			t.Fatalf("ranked page 1 = %+v, %v", r1, err)
		}
		q.Offset = 2
		r2, err := a.Search(ctx, q)
		if err != nil || len(r2.Hits) != 1 || r2.More {
			t.Fatalf("ranked page 2 = %+v, %v", r2, err)
		}
		all := []string{r1.Hits[0].Text, r1.Hits[1].Text, r2.Hits[0].Text}
		if got := sorted(all); !slices.Equal(got, []string{"lunch one", "lunch three lunch", "lunch two"}) {
			t.Errorf("ranked pages hold %q; want each match once", all)
		}
	})
}

func testSearchCount(t *testing.T, a archive.Archive) {
	var ms []archive.Message
	for k := range archive.CountLimit + 5 {
		ms = append(ms, archive.Message{Channel: "C1", TS: TS(k), User: "U1", Text: fmt.Sprintf("common word %d", k)})
	}
	ms = append(ms,
		archive.Message{Channel: "C1", TS: TS(5000), User: "U1", Text: "a rare word"},
		archive.Message{Channel: "C1", TS: TS(5001), User: "U2", Text: "rare too"},
		archive.Message{Channel: "C1", TS: TS(5002), User: "U3", Text: "rare but hidden"},
	)
	Put(t, a, ms...)
	if err := a.SetOptOut(t.Context(), "U3", true); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		query  string
		newest bool
		offset int
		count  int
		more   bool
	}{
		{query: "rare", count: 2},
		{query: "rare", offset: 1, count: 2},
		{query: "common", count: archive.CountLimit, more: true},
		{query: "common", newest: true, offset: 40, count: archive.CountLimit, more: true},
		{query: "common 100*", count: 6}, // 100, 1000 to 1004
		{query: "word", offset: 20, count: archive.CountLimit, more: true},
		{query: "before:2023-11-14", count: 0},
		{query: "after:2023-11-13", count: archive.CountLimit, more: true},
		{query: "after:2023-11-13", offset: 20, count: archive.CountLimit, more: true},
	} {
		q, err := archive.ParseQuery(tt.query, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		q.Newest, q.Offset = tt.newest, tt.offset
		res, err := a.Search(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Count != tt.count || res.CountMore != tt.more {
			t.Errorf("%q (offset %d): count %d, more %v; want %d, %v", tt.query, tt.offset, res.Count, res.CountMore, tt.count, tt.more)
		}
	}
	if got := Search(t, a, "common 1004", true); !slices.Equal(got, []string{"common word 1004"}) {
		t.Errorf("common 1004 = %q", got)
	}
}

// testSearchEverythingAndDates: a search of no words lists messages newest
// first, opted-out members' left out, within its dates.
func testSearchEverythingAndDates(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	day := func(d int) string { return archive.FormatTS(time.Date(2024, 5, d, 12, 0, 0, 0, time.UTC)) }
	for d := 1; d <= 5; d++ {
		Put(t, a, archive.Message{Channel: "C1", TS: day(d), User: fmt.Sprintf("U%d", d%2), Text: fmt.Sprintf("day %d", d)})
	}
	if got := Search(t, a, "", false); !slices.Equal(got, []string{"day 5", "day 4", "day 3", "day 2", "day 1"}) {
		t.Errorf("everything = %q", got)
	}
	if got := Search(t, a, "after:2024-05-02 before:2024-05-05", false); !slices.Equal(got, []string{"day 4", "day 3"}) {
		t.Errorf("between = %q", got)
	}
	if err := a.SetOptOut(ctx, "U1", true); err != nil {
		t.Fatal(err)
	}
	if got := Search(t, a, "", false); !slices.Equal(got, []string{"day 4", "day 2"}) {
		t.Errorf("everything, U1 opted out = %q", got)
	}
	res := SearchResults(t, a, "after:2024-04-30", false)
	if res.Count != 2 || res.More {
		t.Errorf("after: count %d, more %v; want 2", res.Count, res.More)
	}
	q := archive.Query{Limit: 1, Offset: 1}
	p, err := a.Search(ctx, q)
	if err != nil || len(p.Hits) != 1 || p.Hits[0].Text != "day 2" || p.More || p.Count != 2 {
		t.Errorf("page 2 of everything = %+v, %v", p, err)
	}
}

func testSearchFilesAndEscapes(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	Put(t, a,
		archive.Message{Channel: "C1", TS: TS(1), User: "U1", Subtype: "file_share", Text: "see attached",
			Files: []archive.File{{ID: "F1", Name: "minutes-2024.pdf", Title: "Quarterly Minutes", Mimetype: "application/pdf", Permalink: "https://x.slack.com/files/F1"}}},
		archive.Message{Channel: "C1", TS: TS(2), User: "U1", Text: "AT&amp;T &lt;script&gt; R&amp;D"},
		archive.Message{Channel: "C1", TS: TS(3), User: "U1", Text: "it's o'clock \\ back\\slash"},
		archive.Message{Channel: "C1", TS: TS(4), User: "U1", Text: strings.Repeat("x", 3000) + " tail"},
	)
	for query, want := range map[string][]string{
		"quarterly":       {"see attached"},
		"minutes 2024":    {"see attached"},
		`"minutes 2024"`:  {"see attached"},
		"script":          {"AT&amp;T &lt;script&gt; R&amp;D"},
		"amp":             nil,
		"lt":              nil,
		`"at t"`:          {"AT&amp;T &lt;script&gt; R&amp;D"},
		"clock":           {"it's o'clock \\ back\\slash"},
		"it's":            {"it's o'clock \\ back\\slash"},
		"back\\slash":     {"it's o'clock \\ back\\slash"},
		"xxx*":            {strings.Repeat("x", 3000) + " tail"},
		"tail":            {strings.Repeat("x", 3000) + " tail"},
		"xxx":             nil,
		"attached in:#C1": {"see attached"}, // an ID as well as a name
		"attached in:#C2": nil,
	} {
		if got := Search(t, a, query, true); !slices.Equal(got, want) {
			t.Errorf("search %q = %q, want %q", query, got, want)
		}
	}
	m, ok, err := a.Message(ctx, "C1", TS(1))
	if err != nil || !ok || len(m.Files) != 1 || m.Files[0] != (archive.File{ID: "F1", Name: "minutes-2024.pdf", Title: "Quarterly Minutes", Mimetype: "application/pdf", Permalink: "https://x.slack.com/files/F1"}) || m.Subtype != "file_share" {
		t.Errorf("file message = %+v, %v, %v", m, ok, err)
	}
}

func testSearchOutOfTime(t *testing.T, a archive.Archive) {
	Put(t, a, archive.Message{Channel: "C1", TS: TS(1), Text: "hello"})
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := a.Search(ctx, archive.Query{Terms: []archive.Term{{Text: "hello"}}})
	if !errors.Is(err, archive.ErrTooBroad) && !errors.Is(err, archive.ErrBusy) {
		t.Fatalf("search past its deadline: %v; want ErrTooBroad or ErrBusy", err)
	}
}

func testThreadsAndDays(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	Put(t, a,
		archive.Message{Channel: "C1", TS: TS(10), ThreadTS: TS(10), Text: "parent"},
		archive.Message{Channel: "C1", TS: TS(20), ThreadTS: TS(10), Text: "reply 1"},
		archive.Message{Channel: "C1", TS: TS(30), ThreadTS: TS(10), Text: "reply 2"},
		archive.Message{Channel: "C1", TS: TS(35), ThreadTS: TS(10), Subtype: "thread_broadcast", Text: "broadcast"},
		archive.Message{Channel: "C1", TS: TS(40), Text: "plain", Reactions: []archive.Reaction{{Name: "tada", Count: 2, Users: []string{"U1", "U2"}}}},
		archive.Message{Channel: "C2", TS: TS(15), Text: "elsewhere"},
	)
	texts := func(ms []archive.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Text)
		}
		return out
	}
	top, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", TopLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(top); !slices.Equal(got, []string{"parent", "broadcast", "plain"}) {
		t.Fatalf("top level = %q", got)
	}
	if top[0].ReplyCount != 3 || top[0].LastReply != TS(35) || top[1].ReplyCount != 0 || top[2].Reactions[0].Name != "tada" ||
		top[2].Reactions[0].Count != 2 || !slices.Equal(top[2].Reactions[0].Users, []string{"U1", "U2"}) {
		t.Fatalf("top level = %+v", top)
	}
	thread, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", ThreadTS: TS(10)})
	if err != nil || !slices.Equal(texts(thread), []string{"parent", "reply 1", "reply 2", "broadcast"}) {
		t.Fatalf("thread = %q, %v", texts(thread), err)
	}
	if !thread[1].IsReply() || thread[0].IsReply() || thread[1].ReplyCount != 0 {
		t.Errorf("thread flags = %+v", thread)
	}
	// Several threads in one query: their parents and replies in ts
	// order; a message that is in no thread, or in another, is not.
	Put(t, a,
		archive.Message{Channel: "C3", TS: TS(10), ThreadTS: TS(10), Text: "parent 1"},
		archive.Message{Channel: "C3", TS: TS(20), Text: "plain"},
		archive.Message{Channel: "C3", TS: TS(30), ThreadTS: TS(30), Text: "parent 2"},
		archive.Message{Channel: "C3", TS: TS(40), ThreadTS: TS(10), Text: "reply 1.1"},
		archive.Message{Channel: "C3", TS: TS(50), ThreadTS: TS(30), Text: "reply 2.1"},
		archive.Message{Channel: "C3", TS: TS(60), ThreadTS: TS(60), Text: "parent 3"},
		archive.Message{Channel: "C3", TS: TS(70), ThreadTS: TS(60), Text: "reply 3.1"},
	)
	both, err := a.Messages(ctx, archive.MessageQuery{Channel: "C3", Threads: []string{TS(10), TS(30), TS(20)}})
	if err != nil || !slices.Equal(texts(both), []string{"parent 1", "parent 2", "reply 1.1", "reply 2.1"}) {
		t.Fatalf("threads 10 and 30 (and 20, in none) = %q, %v", texts(both), err)
	}
	replies, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", Since: TS(15), Replies: true})
	if err != nil || !slices.Equal(texts(replies), []string{"reply 1", "reply 2", "broadcast"}) {
		t.Fatalf("replies = %q, %v", texts(replies), err)
	}
	last, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", Before: TS(40), Desc: true, Limit: 1})
	if err != nil || !slices.Equal(texts(last), []string{"broadcast"}) {
		t.Fatalf("before = %q, %v", texts(last), err)
	}
	day, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", Since: TS(20), Before: TS(40)})
	if err != nil || !slices.Equal(texts(day), []string{"reply 1", "reply 2", "broadcast"}) {
		t.Fatalf("day = %q, %v", texts(day), err)
	}
	desc, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", Desc: true})
	if err != nil || !slices.Equal(texts(desc), []string{"plain", "broadcast", "reply 2", "reply 1", "parent"}) {
		t.Fatalf("newest first = %q, %v", texts(desc), err)
	}
	if none, err := a.Messages(ctx, archive.MessageQuery{Channel: "C9"}); err != nil || len(none) != 0 {
		t.Fatalf("unknown channel = %+v, %v", none, err)
	}
	var each []string
	if err := a.Each(ctx, "C1", TS(20), func(m archive.Message) error { each = append(each, m.Text); return nil }); err != nil ||
		!slices.Equal(each, []string{"reply 1", "reply 2", "broadcast", "plain"}) {
		t.Fatalf("each = %q, %v", each, err)
	}
	stop := errors.New("stop")
	if err := a.Each(ctx, "C1", "", func(archive.Message) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("each returned %v; want fn's error", err)
	}
	m, ok, err := a.Message(ctx, "C1", TS(10))
	if err != nil || !ok || m.ReplyCount != 3 || m.LastReply != TS(35) || m.ThreadTS != TS(10) {
		t.Fatalf("parent = %+v, %v, %v", m, ok, err)
	}
	if err := a.SetState(ctx, archive.StateLastBackup, "x"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetState(ctx, archive.StateLastBackup, "y"); err != nil {
		t.Fatal(err)
	}
	if v, err := a.State(ctx, archive.StateLastBackup); v != "y" || err != nil {
		t.Fatalf("state = %q, %v", v, err)
	}
	if v, err := a.State(ctx, "missing"); v != "" || err != nil {
		t.Fatalf("missing state = %q, %v", v, err)
	}
}

// testReplyCounts: a parent's reply count and latest reply follow its
// replies, whatever order they arrive in.
func testReplyCounts(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	parent := archive.Message{Channel: "C1", TS: TS(10), Text: "parent"}
	check := func(when string, count int, last string) {
		t.Helper()
		m, ok, err := a.Message(ctx, "C1", parent.TS)
		if err != nil || !ok || m.ReplyCount != count || m.LastReply != last {
			t.Errorf("%s: parent = %d replies, last %q (%v, %v); want %d, %q", when, m.ReplyCount, m.LastReply, ok, err, count, last)
		}
	}
	// Replies first (catch-up may read them before their parent).
	Put(t, a, archive.Message{Channel: "C1", TS: TS(30), ThreadTS: TS(10), Text: "reply 2"},
		archive.Message{Channel: "C2", TS: TS(40), ThreadTS: TS(10), Text: "another channel's thread"})
	Put(t, a, parent) // not yet marked as a thread parent
	check("before the parent is marked", 0, "")
	parent.ThreadTS = parent.TS
	Put(t, a, parent)
	check("parent marked", 1, TS(30))
	Put(t, a, archive.Message{Channel: "C1", TS: TS(20), ThreadTS: TS(10), Text: "reply 1"})
	check("an earlier reply", 2, TS(30))
	if err := a.Delete(ctx, "C1", TS(30)); err != nil {
		t.Fatal(err)
	}
	check("latest reply deleted", 1, TS(20))
	if err := a.Remove(ctx, "C1", TS(20)); err != nil {
		t.Fatal(err)
	}
	check("last reply removed", 0, "")
	top, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1", TopLevel: true})
	if err != nil || len(top) != 1 || top[0].ReplyCount != 0 {
		t.Fatalf("top level = %+v, %v", top, err)
	}
}

// testSameInstantInManyChannels: exports with whole-second timestamps put
// many channels' messages at one instant; each is its own message.
func testSameInstantInManyChannels(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	var ms []archive.Message
	for c := range 256 {
		ms = append(ms, archive.Message{Channel: fmt.Sprintf("C%03d", c), TS: TS(1), Text: fmt.Sprintf("hello from %d", c)})
	}
	if n, err := a.PutMessages(ctx, ms); n != 256 || err != nil {
		t.Fatalf("put 256 at one instant = %d, %v", n, err)
	}
	if n := Put(t, a, ms...); n != 0 {
		t.Fatalf("again: added %d", n)
	}
	q := archive.Query{Terms: []archive.Term{{Text: "hello"}}, Limit: 200}
	res, err := a.Search(ctx, q)
	if err != nil || len(res.Hits) != 200 || !res.More || res.Count != 256 {
		t.Fatalf("search = %d hits, more %v, count %d, %v", len(res.Hits), res.More, res.Count, err)
	}
	if got := Search(t, a, "hello in:C123", false); !slices.Equal(got, []string{"hello from 123"}) {
		t.Errorf("in:C123 = %q", got)
	}
	if err := a.Delete(ctx, "C007", TS(1)); err != nil {
		t.Fatal(err)
	}
	if got := Search(t, a, "hello in:C007", false); len(got) != 0 {
		t.Errorf("a deleted message is found: %q", got)
	}
	if got := Search(t, a, "hello in:C008", false); len(got) != 1 {
		t.Errorf("deleting another channel's message at the same instant hid this one: %q", got)
	}
	if s, _ := a.Stats(ctx); s.Messages != 255 || s.Channels != 256 || s.Newest != TS(1) {
		t.Errorf("stats = %+v", s)
	}
}

// testOddIDs: IDs that are not Slack's letters and digits (a hand-made
// export) still filter exactly.
func testOddIDs(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	for _, c := range []archive.Channel{{ID: "C 1", Name: "one"}, {ID: "C", Name: "c"}, {ID: "C-1", Name: "minus"}, {ID: "C'1", Name: "quote"}} {
		if err := a.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"U 1", "U", "U-1", `U\1`} {
		if err := a.PutUser(ctx, archive.User{ID: u}); err != nil {
			t.Fatal(err)
		}
	}
	Put(t, a,
		archive.Message{Channel: "C 1", TS: TS(1), User: "U 1", Text: "hello one"},
		archive.Message{Channel: "C", TS: TS(2), User: "U", Text: "hello c"},
		archive.Message{Channel: "C-1", TS: TS(3), User: "U-1", Text: "hello minus"},
		archive.Message{Channel: "C'1", TS: TS(4), User: `U\1`, Text: "hello quote"},
	)
	for query, want := range map[string][]string{
		"hello in:#one":   {"hello one"},
		"hello in:#c":     {"hello c"},
		"hello in:#minus": {"hello minus"},
		"hello in:#quote": {"hello quote"},
		"from:<@U-1>":     {"hello minus"},
		"from:<@U>":       {"hello c"},
		`from:<@U\1>`:     {"hello quote"},
	} {
		if got := Search(t, a, query, false); !slices.Equal(got, want) {
			t.Errorf("%q = %q, want %q", query, got, want)
		}
	}
}

func testChannelsUsersAndStats(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	created := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []archive.Channel{
		{ID: "C2", Name: "random", Topic: "anything", Purpose: "fun", Created: created},
		{ID: "C1", Name: "general", Topic: "news"},
		{ID: "C3", Name: "old", Archived: true},
	} {
		if err := a.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.PutChannel(ctx, archive.Channel{ID: "C2", Name: "random-renamed", Topic: "new topic"}); err != nil { // no created: kept
		t.Fatal(err)
	}
	Put(t, a,
		archive.Message{Channel: "C1", TS: TS(1), User: "U1", Text: "a"},
		archive.Message{Channel: "C1", TS: TS(3), User: "U1", Text: "b"},
		archive.Message{Channel: "C2", TS: TS(2), User: "U2", Text: "c"},
		archive.Message{Channel: "C9", TS: TS(4), User: "U2", Text: "a channel first heard of in a message"},
	)
	cs, err := a.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"C9", "general", "old", "random-renamed"}) {
		t.Fatalf("channels by name = %q", names)
	}
	want := archive.Channel{ID: "C2", Name: "random-renamed", Topic: "new topic", Created: created, Messages: 1, Last: TS(2)}
	if c, ok, err := a.Channel(ctx, "random-renamed"); err != nil || !ok || c != want {
		t.Errorf("channel by name = %+v, %v, %v; want %+v", c, ok, err, want)
	}
	if c, ok, _ := a.Channel(ctx, "C2"); !ok || c != want {
		t.Errorf("channel by ID = %+v", c)
	}
	if c, _, _ := a.Channel(ctx, "C1"); c.Messages != 2 || c.Last != TS(3) || c.Topic != "news" {
		t.Errorf("general = %+v", c)
	}
	if c, _, _ := a.Channel(ctx, "C3"); !c.Archived || c.Messages != 0 {
		t.Errorf("old = %+v", c)
	}
	if _, ok, err := a.Channel(ctx, "nowhere"); ok || err != nil {
		t.Errorf("unknown channel: %v, %v", ok, err)
	}

	if err := a.SetOptOut(ctx, "U3", true); err != nil { // before the user is known
		t.Fatal(err)
	}
	for _, u := range []archive.User{
		{ID: "U2", Name: "bob", RealName: "Bob B", DisplayName: "bobby", Avatar: "https://a/b.png"},
		{ID: "U1", Name: "ada", Bot: false},
		{ID: "U3", Name: "cy", Deleted: true},
		{ID: "B1", Name: "bot", Bot: true},
	} {
		if err := a.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	us, err := a.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	if !slices.Equal(ids, []string{"B1", "U1", "U2", "U3"}) {
		t.Fatalf("users by ID = %q", ids)
	}
	some, err := a.UsersByID(ctx, []string{"U3", "U404", "B1", "U3"})
	if err != nil || len(some) != 2 || some[0].ID != "B1" || !some[0].Bot || some[1].ID != "U3" || !some[1].OptedOut {
		t.Fatalf("UsersByID(U3, U404, B1, U3) = %+v, %v; want B1 and U3 as stored", some, err)
	}
	if none, err := a.UsersByID(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("UsersByID(none) = %+v, %v", none, err)
	}
	if u, ok, err := a.User(ctx, "U3"); err != nil || !ok || !u.OptedOut || !u.Deleted || u.Name != "cy" {
		t.Errorf("U3 = %+v, %v, %v; want opted out kept by PutUser", u, ok, err)
	}
	if u, _, _ := a.User(ctx, "U2"); u != (archive.User{ID: "U2", Name: "bob", RealName: "Bob B", DisplayName: "bobby", Avatar: "https://a/b.png"}) {
		t.Errorf("U2 = %+v", u)
	}
	if u, _, _ := a.User(ctx, "B1"); !u.Bot {
		t.Errorf("B1 = %+v", u)
	}
	if _, ok, err := a.User(ctx, "U404"); ok || err != nil {
		t.Errorf("unknown user: %v, %v", ok, err)
	}
	if err := a.Remove(ctx, "C1", TS(1)); err != nil {
		t.Fatal(err)
	}
	s, err := a.Stats(ctx)
	if want := (archive.Stats{Channels: 4, Messages: 3, Users: 4, OptedOut: 1, Removed: 1, Newest: TS(4)}); err != nil || s != want {
		t.Errorf("stats = %+v, %v; want %+v", s, err, want)
	}
}

func testOptOutHidesEverywhere(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	Put(t, a,
		archive.Message{Channel: "C1", TS: TS(1), User: "U1", Text: "mine"},
		archive.Message{Channel: "C1", TS: TS(2), User: "U2", Text: "theirs"},
		archive.Message{Channel: "C1", TS: TS(3), Username: "rss", BotID: "B1", Subtype: "bot_message", Text: "a feed item"},
	)
	if err := a.SetOptOut(ctx, "U1", true); err != nil {
		t.Fatal(err)
	}
	ms, err := a.Messages(ctx, archive.MessageQuery{Channel: "C1"})
	if err != nil || len(ms) != 3 || !ms[0].Hidden || ms[1].Hidden || ms[2].Hidden {
		t.Fatalf("messages = %+v, %v; want the first hidden", ms, err)
	}
	var hidden []bool
	a.Each(ctx, "C1", "", func(m archive.Message) error { hidden = append(hidden, m.Hidden); return nil })
	if !slices.Equal(hidden, []bool{true, false, false}) {
		t.Errorf("each: hidden = %v", hidden)
	}
	if got := Search(t, a, "mine", false); len(got) != 0 {
		t.Errorf("an opted-out member's words are found: %q", got)
	}
	if got := Search(t, a, "feed", false); !slices.Equal(got, []string{"a feed item"}) {
		t.Errorf("a bot's message: %q", got)
	}
	if m, _, _ := a.Message(ctx, "C1", TS(3)); m.Username != "rss" || m.BotID != "B1" || m.Subtype != "bot_message" {
		t.Errorf("bot message = %+v", m)
	}
	if err := a.SetOptOut(ctx, "U1", false); err != nil {
		t.Fatal(err)
	}
	if got := Search(t, a, "mine", false); !slices.Equal(got, []string{"mine"}) {
		t.Errorf("opted back in: %q", got)
	}
}

func testBadTimestamps(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	if _, err := a.PutMessages(ctx, []archive.Message{{Channel: "C1", TS: "yesterday", Text: "x"}}); !errors.Is(err, archive.ErrBadTS) {
		t.Errorf("put with a bad ts: %v; want ErrBadTS", err)
	}
	if _, err := a.PutMessages(ctx, []archive.Message{{Channel: "C1", TS: TS(1), ThreadTS: "1.2.3", Text: "x"}}); !errors.Is(err, archive.ErrBadTS) {
		t.Errorf("put with a bad thread ts: %v; want ErrBadTS", err)
	}
	if s, _ := a.Stats(ctx); s.Messages != 0 {
		t.Errorf("a batch with a bad ts stored %d messages", s.Messages)
	}
	if _, ok, err := a.Message(ctx, "C1", "nope"); ok || err != nil {
		t.Errorf("message with a bad ts: %v, %v", ok, err)
	}
	if err := a.Delete(ctx, "C1", "nope"); !errors.Is(err, archive.ErrBadTS) {
		t.Errorf("delete with a bad ts: %v", err)
	}
	if n, err := a.PutMessages(ctx, nil); n != 0 || err != nil {
		t.Errorf("put nothing = %d, %v", n, err)
	}
}

// testConcurrentWriters: writers storing the same messages at once (live
// capture, catch-up and an import; or replicas) leave each message once
// and the counters right.
func testConcurrentWriters(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	var ms []archive.Message
	for k := range 300 {
		ms = append(ms, archive.Message{Channel: fmt.Sprintf("C%d", k%3), TS: TS(k), User: "U1", Text: fmt.Sprintf("message %d", k)})
	}
	var wg sync.WaitGroup
	added := make([]int, 4)
	errs := make([]error, 4)
	for w := range 4 {
		wg.Go(func() {
			batch := slices.Clone(ms)
			if w%2 == 1 {
				slices.Reverse(batch)
			}
			for k := 0; k < len(batch); k += 50 {
				n, err := a.PutMessages(ctx, batch[k:k+50])
				if err != nil {
					errs[w] = err
					return
				}
				added[w] += n
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range added {
		total += n
	}
	if total != len(ms) {
		t.Errorf("writers added %v, %d in all; want %d", added, total, len(ms))
	}
	s, _ := a.Stats(ctx)
	if s.Messages != len(ms) || s.Channels != 3 {
		t.Errorf("stats = %+v", s)
	}
	if res := SearchResults(t, a, "message", true); res.Count != len(ms) {
		t.Errorf("search counts %d", res.Count)
	}
}

// zipOf writes files (path → JSON value) as a zip.
func zipOf(t testing.TB, files map[string]any) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewEncoder(w).Encode(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// testImportNeverStoresPrivate: whatever an export holds, only its public
// channels reach the archive.
func testImportNeverStoresPrivate(t *testing.T, a archive.Archive) {
	ctx := t.Context()
	msg := func(text string) []map[string]any {
		return []map[string]any{{"type": "message", "user": "U1", "text": text, "ts": TS(1)}}
	}
	r := zipOf(t, map[string]any{
		"channels.json": []map[string]any{{"id": "C1", "name": "general"}, {"id": "C2", "name": "leak", "is_private": true}},
		"groups.json":   []map[string]any{{"id": "G1", "name": "secret-group"}},
		"dms.json":      []map[string]any{{"id": "D1", "members": []string{"U1", "U2"}}},
		"mpims.json":    []map[string]any{{"id": "G2", "name": "mpdm-a--b-1"}},
		"users.json":    []map[string]any{{"id": "U1", "name": "ada"}},

		"general/2023-11-14.json":      msg("public words"),
		"leak/2023-11-14.json":         msg("private words one"),
		"secret-group/2023-11-14.json": msg("private words two"),
		"D1/2023-11-14.json":           msg("private words three"),
		"mpdm-a--b-1/2023-11-14.json":  msg("private words four"),
	})
	st, err := archive.Import(ctx, a, r, r.Size(), archive.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Added != 1 {
		t.Errorf("import added %d; want the public message only (%+v)", st.Added, st)
	}
	if got := Search(t, a, "words", false); !slices.Equal(got, []string{"public words"}) {
		t.Errorf("search words = %q; want the public message only", got)
	}
	if got := Search(t, a, "private", false); len(got) != 0 {
		t.Errorf("private messages are found: %q", got)
	}
	cs, _ := a.Channels(ctx)
	if len(cs) != 1 || cs[0].ID != "C1" {
		t.Errorf("channels = %+v; want general only", cs)
	}
	if s, _ := a.Stats(ctx); s.Messages != 1 {
		t.Errorf("stats = %+v", s)
	}
}

// testExportRoundTrip: an archive exported and imported into another of
// the same kind reads the same, opted-out members' messages left out.
func testExportRoundTrip(t *testing.T, a, b archive.Archive) {
	ctx := t.Context()
	if err := a.PutChannel(ctx, archive.Channel{ID: "C1", Name: "general", Topic: "news"}); err != nil {
		t.Fatal(err)
	}
	if err := a.PutUser(ctx, archive.User{ID: "U1", Name: "ada", RealName: "Ada L"}); err != nil {
		t.Fatal(err)
	}
	Put(t, a,
		archive.Message{Channel: "C1", TS: TS(10), ThreadTS: TS(10), User: "U1", Text: "会议 parent"},
		archive.Message{Channel: "C1", TS: TS(20), ThreadTS: TS(10), User: "U1", Text: "réunion reply", Edited: TS(25)},
		archive.Message{Channel: "C1", TS: TS(86400), User: "U1", Text: "next day", Reactions: []archive.Reaction{{Name: "+1", Count: 1, Users: []string{"U1"}}}},
		archive.Message{Channel: "C1", TS: TS(86500), User: "U2", Text: "hidden one"},
	)
	if err := a.SetOptOut(ctx, "U2", true); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	est, err := archive.Export(ctx, a, &buf, archive.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if est.Messages != 3 || est.Hidden != 1 {
		t.Errorf("export stats = %+v", est)
	}
	r := bytes.NewReader(buf.Bytes())
	if _, err := archive.Import(ctx, b, r, r.Size(), archive.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	read := func(x archive.Archive) []archive.Message {
		ms, err := x.Messages(ctx, archive.MessageQuery{Channel: "C1"})
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	want, got := read(a)[:3], read(b)
	if len(got) != 3 {
		t.Fatalf("imported %d messages; want 3", len(got))
	}
	for k := range want {
		w, g := want[k], got[k]
		if w.TS != g.TS || w.Text != g.Text || w.ThreadTS != g.ThreadTS || w.User != g.User || w.Edited != g.Edited ||
			w.ReplyCount != g.ReplyCount || len(w.Reactions) != len(g.Reactions) {
			t.Errorf("message %d: exported %+v, imported %+v", k, w, g)
		}
	}
	for _, q := range []string{"会议", "reunion", "next"} {
		if wa, wb := Search(t, a, q, true), Search(t, b, q, true); !slices.Equal(wa, wb) || len(wa) != 1 {
			t.Errorf("search %q: %q before, %q after the round trip", q, wa, wb)
		}
	}
	if c, _, _ := b.Channel(ctx, "general"); c.Topic != "news" || c.Messages != 3 {
		t.Errorf("imported channel = %+v", c)
	}
}
