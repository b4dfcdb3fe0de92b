package web

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/townhall/townhall/integrations/archive"
)

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 results", 1: "1 result", 999: "999 results", 1000: "1,000 results", 1234567: "1,234,567 results", -1200: "-1,200 results"} {
		if got := count(n, "result", "results"); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestZoneAndStamp(t *testing.T) {
	t.Parallel()
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		loc       *time.Location
		t         time.Time
		want      string
		wantStamp string // of at, shown on the page of 1 March
	}{
		{time.UTC, at, "UTC", "10 March, 12:00"},
		{kolkata, at, "Asia/Kolkata (UTC+5:30)", "10 March, 17:30"},
		{kolkata, time.Time{}, "Asia/Kolkata", "10 March, 17:30"},
		{time.FixedZone("", -3*3600), at, "UTC-3", "10 March, 09:00"},
	} {
		h := &Handler{loc: tt.loc, now: func() time.Time { return at }}
		if got := h.zone(tt.t); got != tt.want {
			t.Errorf("zone(%v) in %v = %q, want %q", tt.t, tt.loc, got, tt.want)
		}
		if got := h.stamp(at, time.Date(2024, 3, 1, 0, 0, 0, 0, tt.loc)); got != tt.wantStamp {
			t.Errorf("stamp in %v = %q, want %q", tt.loc, got, tt.wantStamp)
		}
	}
	h := &Handler{loc: time.UTC}
	if got := h.stamp(at, at); got != "12:00" {
		t.Errorf("stamp on its own day = %q", got)
	}
	if got := h.stamp(at, time.Time{}); got != "10 March 2024, 12:00" {
		t.Errorf("stamp on no day = %q", got)
	}
	if got := h.stamp(at, time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)); got != "10 March 2024, 12:00" {
		t.Errorf("stamp from another year = %q", got)
	}
}

func TestResultCount(t *testing.T) {
	t.Parallel()
	hits := make([]archive.Hit, 20)
	for _, tt := range []struct {
		name        string
		res         archive.Results
		offset      int
		count, show string
	}{
		{"counted", archive.Results{Hits: hits, More: true, Count: 240}, 0, "240 results", ""},
		{"counted up to a bound", archive.Results{Hits: hits, More: true, Count: 1000, CountMore: true}, 20, "more than 1,000 results", "21–40"},
		{"not counted, more pages", archive.Results{Hits: hits, More: true}, 0, "more than 20 results", ""},
		{"not counted, the last page", archive.Results{Hits: hits[:3]}, 40, "43 results", "41–43"},
		{"one", archive.Results{Hits: hits[:1]}, 0, "1 result", ""},
		{"none", archive.Results{}, 0, "0 results", ""},
	} {
		count, show := resultCount(tt.res, tt.offset)
		if count != tt.count || show != tt.show {
			t.Errorf("%s: resultCount = %q, %q; want %q, %q", tt.name, count, show, tt.count, tt.show)
		}
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	rc := &renderCtx{markup: testMarkup()}
	terms := []archive.Term{{Text: "mention"}, {Text: "budget"}}
	long := strings.Repeat("filler words here ", 60) + "the *budget* for <@U1> and <https://example.org/a|a link> " + strings.Repeat("and more words ", 60)
	tests := []struct {
		name, text string
		want       []string
		notWant    []string
	}{
		{"short", "a *budget* :coffee: mention for <@U1>", []string{
			`a <strong><mark>budget</mark></strong> <span class="emoji" role="img" aria-label="coffee">☕</span> <mark>mention</mark> for <bdi class="mention">@Ada</bdi>`,
		}, []string{"…"}},
		{"long, cut around its match", long, []string{
			"…", "the <strong><mark>budget</mark></strong> for <bdi class=\"mention\">@Ada</bdi> and <a href=\"https://example.org/a\"",
		}, []string{"&lt;@U1", "&lt;https"}},
		{"long, cut inside a code block", strings.Repeat("x ", 20) + "```" + strings.Repeat("code ", 200) + "budget " + strings.Repeat("code ", 200) + "```",
			[]string{"…<pre><code>", "<mark>budget</mark>"}, nil},
		{"escaped", "&lt;b&gt; budget &amp; co", []string{"&lt;b&gt; <mark>budget</mark> &amp; co"}, []string{"<b>"}},
	}
	for _, tt := range tests {
		got := string(rc.snippet(tt.text, terms))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: snippet lacks %q:\n%s", tt.name, w, got)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(got, w) {
				t.Errorf("%s: snippet has %q:\n%s", tt.name, w, got)
			}
		}
		if len(got) > 3*maxSnippet {
			t.Errorf("%s: snippet of %d bytes", tt.name, len(got))
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip": true, "gzip;q=0": false, "gzip; q=0.5": true,
		"br": false, "*": true, "*;q=0": false, "identity": false, "x-gzip": false,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
