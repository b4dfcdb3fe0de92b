package web

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
)

// TestSitemapIndex checks the sitemap past its limit of addresses per
// file (50,000; 2 here): /sitemap.xml becomes an index of
// /sitemap-N.xml files, which together list every address once.
func TestSitemapIndex(t *testing.T) {
	t.Parallel()
	a, err := sqlitearchive.Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.PutChannel(t.Context(), archive.Channel{ID: "C1", Name: "general"}); err != nil {
		t.Fatal(err)
	}
	var ms []archive.Message
	for i := range 5 {
		ts := archive.FormatTS(time.Date(2024, 3, 1, 9+i, 0, 0, 0, time.UTC))
		ms = append(ms, archive.Message{Channel: "C1", TS: ts, ThreadTS: ts, User: "U1", Text: fmt.Sprintf("question %d", i)},
			archive.Message{Channel: "C1", TS: archive.FormatTS(time.Date(2024, 3, 1, 9+i, 5, 0, 0, time.UTC)), ThreadTS: ts, User: "U2", Text: "answer"})
	}
	if _, err := a.PutMessages(t.Context(), ms); err != nil {
		t.Fatal(err)
	}
	h, err := New(archive.Config{BaseURL: "https://archive.example.org/", IndexedChannels: []string{"general"}}, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.sitemaps.max = 2
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(b)
	}
	code, body := get("/sitemap.xml")
	var idx struct {
		XMLName  xml.Name
		Sitemaps []struct {
			Loc string `xml:"loc"`
		} `xml:"sitemap"`
	}
	if err := xml.Unmarshal([]byte(body), &idx); err != nil || code != 200 || idx.XMLName.Local != "sitemapindex" {
		t.Fatalf("sitemap.xml: %d %v\n%s", code, err, body)
	}
	if len(idx.Sitemaps) != 3 {
		t.Fatalf("%d sitemaps for 6 addresses at 2 a file, want 3:\n%s", len(idx.Sitemaps), body)
	}
	seen := map[string]bool{}
	for i, s := range idx.Sitemaps {
		if want := fmt.Sprintf("https://archive.example.org/sitemap-%d.xml", i+1); s.Loc != want {
			t.Errorf("sitemap %d at %s, want %s", i, s.Loc, want)
		}
		code, body := get(strings.TrimPrefix(s.Loc, "https://archive.example.org"))
		var set struct {
			URLs []struct {
				Loc string `xml:"loc"`
			} `xml:"url"`
		}
		if err := xml.Unmarshal([]byte(body), &set); err != nil || code != 200 || len(set.URLs) == 0 || len(set.URLs) > 2 {
			t.Fatalf("%s: %d %v, %d addresses\n%s", s.Loc, code, err, len(set.URLs), body)
		}
		for _, u := range set.URLs {
			if seen[u.Loc] {
				t.Errorf("%s listed twice", u.Loc)
			}
			seen[u.Loc] = true
		}
	}
	if len(seen) != 6 || !seen["https://archive.example.org/c/general/"] || !seen["https://archive.example.org/c/general/t/1709290800000000-question-2"] {
		t.Errorf("the sitemaps list %v", seen)
	}
	for _, p := range []string{"/sitemap-4.xml", "/sitemap-0.xml", "/sitemap-01.xml", "/sitemap-x.xml", "/favicon.ico"} {
		if code, _ := get(p); code != 404 {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
}
