package sqlitearchive_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// TestSearchCount: results say how many messages match, counting up to
// archive.CountLimit, without the opted-out members' messages.
func TestSearchCount(t *testing.T) {
	t.Parallel()
	a := open(t)
	var ms []archive.Message
	for k := range archive.CountLimit + 5 {
		ms = append(ms, archive.Message{Channel: "C1", TS: ts(k), User: "U1", Text: fmt.Sprintf("common word %d", k)})
	}
	ms = append(ms,
		archive.Message{Channel: "C1", TS: ts(5000), User: "U1", Text: "a rare word"},
		archive.Message{Channel: "C1", TS: ts(5001), User: "U2", Text: "rare too"},
		archive.Message{Channel: "C1", TS: ts(5002), User: "U3", Text: "rare but hidden"},
	)
	put(t, a, ms...)
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
		{query: "common", count: archive.CountLimit, more: true},
		{query: "common", newest: true, offset: 40, count: archive.CountLimit, more: true},
		{query: "common 100*", count: 6}, // 100, 1000 to 1004
		{query: "before:2023-11-14", count: 0},
		{query: "after:2023-11-13", count: archive.CountLimit, more: true},
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
}
