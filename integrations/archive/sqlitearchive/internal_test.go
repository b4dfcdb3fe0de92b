package sqlitearchive

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

func openTest(t *testing.T) *Archive {
	t.Helper()
	a, err := Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func searchTexts(t *testing.T, a *Archive, query string, newest bool) []string {
	t.Helper()
	q, err := archive.ParseQuery(query, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	q.Newest = newest
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

// TestMigrationFromVersion1 migrates an archive written by the first
// schema: messages renumbered in time order, reply counts filled in, the
// search index rebuilt with its meta column.
func TestMigrationFromVersion1(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "townhall.db")
	db, err := openDB(path, url.Values{"_journal_mode": {"WAL"}, "_txlock": {"immediate"}})
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrateTo(ctx, db, 1); err != nil {
		t.Fatal(err)
	}
	// As version 1 stored them: its triggers kept the channel counters.
	for _, q := range []string{
		`INSERT INTO archive_users (id, name) VALUES ('U1', 'ada'), ('U2', 'bob')`,
		`INSERT INTO archive_channels (id, name) VALUES ('C1', 'general'), ('C2', 'random')`,
		`INSERT INTO archive_messages (channel, ts, thread_ts, user, text, files) VALUES
			('C2', '1700000200.000000', '', 'U1', 'Réunion demain', NULL),
			('C1', '1700000100.000000', '1700000000.000000', 'U2', 'lunch at noon', NULL),
			('C1', '1700000000.000000', '1700000000.000000', 'U1', 'lunch plans', NULL),
			('C2', '1700000000.000000', '', 'U2', 'dinner plans', '[{"name":"menu.pdf","title":"Menu"}]')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	a, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	rows, err := a.read.QueryContext(ctx, `SELECT id, ts FROM archive_messages ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for rows.Next() {
		var id int64
		var ts string
		if err := rows.Scan(&id, &ts); err != nil {
			t.Fatal(err)
		}
		if id < baseID(ts) || id >= baseID(ts)+idSlots {
			t.Errorf("message at %s has id %d, not in its microsecond's slots", ts, id)
		}
		order = append(order, ts)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(order) || len(order) != 4 {
		t.Errorf("ids are not in time order: %v", order)
	}
	parent, ok, err := a.Message(ctx, "C1", "1700000000.000000")
	if err != nil || !ok || parent.ReplyCount != 1 || parent.LastReply != "1700000100.000000" {
		t.Errorf("parent after migration = %+v, %v, %v", parent, ok, err)
	}
	c, _, _ := a.Channel(ctx, "C1")
	if c.Messages != 2 || c.Last != "1700000100.000000" {
		t.Errorf("channel after migration = %+v", c)
	}
	for query, want := range map[string][]string{
		"lunch":                        {"lunch at noon", "lunch plans"},
		"plans in:#random":             {"dinner plans"},
		"reunion":                      {"Réunion demain"},
		"menu":                         {"dinner plans"},
		"from:@bob":                    {"lunch at noon", "dinner plans"},
		"plans before:2023-11-15":      {"lunch plans", "dinner plans"},
		"lunch from:@ada in:#general":  {"lunch plans"},
		"lunch from:@ada in:#random":   nil,
		"after:2023-11-13 in:#general": {"lunch at noon", "lunch plans"},
	} {
		got := searchTexts(t, a, query, true)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("after migration, %q found %q, want %q", query, got, want)
		}
	}
	// And it takes new messages as a new archive does.
	if n, err := a.PutMessages(ctx, []archive.Message{{Channel: "C1", TS: "1700000300.000000", ThreadTS: "1700000000.000000", User: "U1", Text: "lunch, again"}}); n != 1 || err != nil {
		t.Fatalf("put after migration = %d, %v", n, err)
	}
	if parent, _, _ := a.Message(ctx, "C1", "1700000000.000000"); parent.ReplyCount != 2 {
		t.Errorf("reply count after a new reply = %d", parent.ReplyCount)
	}
}

// TestRankWindow: ranked search picks the best among the newest matches,
// while newest-first pages through them all.
func TestRankWindow(t *testing.T) {
	t.Parallel()
	a := openTest(t)
	a.rankWindow = 3
	texts := []string{
		"lunch lunch lunch", // the best match, but the oldest: outside the window
		"lunch with the committee on friday",
		"lunch with the garden volunteers",
		"lunch lunch",
		"lunch at the market after the council meeting",
	}
	for i, s := range texts {
		if _, err := a.PutMessages(t.Context(), []archive.Message{{Channel: "C1", TS: archive.FormatTS(time.Unix(int64(1700000000+i), 0)), Text: s}}); err != nil {
			t.Fatal(err)
		}
	}
	ranked := searchTexts(t, a, "lunch", false)
	if len(ranked) != 3 || ranked[0] != "lunch lunch" || slices.Contains(ranked, texts[0]) {
		t.Errorf("ranked = %q; want the best of the newest three, \"lunch lunch\" first", ranked)
	}
	if newest := searchTexts(t, a, "lunch", true); len(newest) != 5 || newest[0] != texts[4] {
		t.Errorf("newest first = %q; want all five", newest)
	}
	if older := searchTexts(t, a, "lunch before:2023-11-14", false); len(older) != 0 {
		t.Errorf("before: = %q", older)
	}
	a.rankWindow = defaultRankWindow
	if all := searchTexts(t, a, "lunch", false); len(all) != 5 || all[0] != texts[0] {
		t.Errorf("ranked over a large window = %q; want all five, %q first", all, texts[0])
	}
}

// TestQueryPlans checks with EXPLAIN QUERY PLAN that the queries of day
// pages, threads, search results and reply counts read through indexes,
// never a whole table.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	a := openTest(t)
	day, dayArgs := messagesQuery(archive.MessageQuery{Channel: "C1", Since: "1700000000.000000", Before: "1700086400.000000", TopLevel: true})
	thread, threadArgs := messagesQuery(archive.MessageQuery{Channel: "C1", ThreadTS: "1700000000.000000"})
	dayReplies, dayRepliesArgs := messagesQuery(archive.MessageQuery{Channel: "C1", Since: "1700000000.000000", Before: "1700086400.000000", Replies: true})
	prev, prevArgs := messagesQuery(archive.MessageQuery{Channel: "C1", Before: "1700000000.000000", Desc: true, Limit: 1})
	tests := []struct {
		name  string
		query string
		args  []any
		want  string // a step the plan must have
	}{
		{"day", day, dayArgs, "SEARCH m USING PRIMARY KEY (channel=? AND ts>? AND ts<?)"},
		{"a day's replies", dayReplies, dayRepliesArgs, "SEARCH m USING PRIMARY KEY (channel=? AND ts>? AND ts<?)"},
		{"thread", thread, threadArgs, "SEARCH m USING INDEX archive_messages_thread (channel=? AND thread_ts=?)"},
		{"previous day", prev, prevArgs, "SEARCH m USING PRIMARY KEY (channel=? AND ts<?)"},
		{"hits", hitsQuery(3), []any{1, 2, 3}, "SEARCH m USING INDEX archive_messages_id (id=?)"},
		{"dates alone", newestByTimeQuery, []any{0, 1, 20, 0}, "SEARCH m USING INDEX archive_messages_id (id>? AND id<?)"},
		{"reply counts", recountReplies, []any{`[["C1","1700000000.000000"]]`}, "SEARCH r USING COVERING INDEX archive_messages_thread (channel=? AND thread_ts=?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := explain(t.Context(), t, a.write, tt.query, tt.args)
			if !strings.Contains(plan, tt.want) {
				t.Errorf("plan lacks %q:\n%s", tt.want, plan)
			}
			for _, line := range strings.Split(plan, "\n") {
				if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "json_each") ||
					strings.Contains(line, "TEMP B-TREE") && tt.name != "hits" {
					t.Errorf("plan has %q:\n%s", line, plan)
				}
			}
		})
	}
}

func explain(ctx context.Context, t *testing.T, db *sql.DB, query string, args []any) string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestIndexHashSize: the search index holds a batch's terms in memory up
// to 8 MB (migration 4), so an import's batch is written as one segment.
func TestIndexHashSize(t *testing.T) {
	t.Parallel()
	a := openTest(t)
	var v int
	if err := a.read.QueryRowContext(t.Context(), `SELECT v FROM archive_fts_config WHERE k = 'hashsize'`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != 8<<20 {
		t.Errorf("hashsize %d, want %d", v, 8<<20)
	}
}
