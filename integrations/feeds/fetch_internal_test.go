package feeds

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFetcher(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select { // answers only when the client gives up
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/cond", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") == "Tue, 03 Mar 2026 09:30:00 GMT" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Tue, 03 Mar 2026 09:30:00 GMT")
		_, _ = w.Write([]byte("<rss/>"))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := &fetcher{hc: srv.Client(), maxBytes: 4096, now: time.Now}

	if _, err := f.get(t.Context(), srv.URL+"/big", "", ""); err == nil || !strings.Contains(err.Error(), "larger than 4096 bytes") {
		t.Errorf("big: err = %v", err)
	}
	ctx, cancel := contextWithTimeout(t, 50*time.Millisecond)
	defer cancel()
	_, err := f.get(ctx, srv.URL+"/slow", "", "")
	var fe *fetchError
	if !errors.As(err, &fe) || shortError(err) != "it took too long to answer" {
		t.Errorf("slow: err = %v (%q)", err, shortError(err))
	}
	got, err := f.get(t.Context(), srv.URL+"/cond", "", "")
	if err != nil || got.notModified || got.etag != `"v1"` {
		t.Fatalf("cond: %+v, %v", got, err)
	}
	got, err = f.get(t.Context(), srv.URL+"/cond", got.etag, got.lastModified)
	if err != nil || !got.notModified || got.etag != `"v1"` {
		t.Errorf("conditional: %+v, %v", got, err)
	}
}

func FuzzFeedItems(f *testing.F) {
	for _, name := range []string{"rss.xml", "atom.xml", "mastodon.rss", "bluesky.rss", "feed.json", "malformed.xml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		feed, _, err := parseFeed(b, "https://example.org/")
		if err != nil {
			return
		}
		items, _ := feedItems(feed, "https://example.org/")
		for _, it := range items {
			m := itemMessage(it, time.UTC)
			for _, bad := range []string{"<!channel", "<!here", "<!everyone", "<@"} {
				if strings.Contains(m.Text, bad) {
					t.Errorf("message text %q carries %q", m.Text, bad)
				}
			}
		}
	})
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}
