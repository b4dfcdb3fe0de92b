package feeds

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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

// FuzzFeedItems feeds parseFeed, feedItems and itemMessage outside input.
// Its seeds are small on purpose: the fuzzing engine minimizes every new
// interesting input for up to -fuzzminimizetime (60 s by default) before
// it reports anything, and that cost grows with the input, so seeds of a
// few kilobytes (the fixtures) kept it minimizing, stalled at a dozen
// execs. Each seed still holds one kind's quirks.
func FuzzFeedItems(f *testing.F) {
	for _, seed := range []string{
		`<rss version="2.0"><channel><title>T</title><link>https://t.example/</link><item><guid>1</guid><title>A &amp; B</title><link>/rel</link><pubDate>Tue, 03 Mar 2026 09:30:00 +0000</pubDate><description><![CDATA[<p>x <b>y</b></p><img src="https://t.example/i.png" width="1" height="1">]]></description></item></channel></rss>`,
		`<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>u:1</id><title type="html">T</title><link href="/a"/><updated>2026-03-01T09:12:44.000000Z</updated><content type="html">&lt;li&gt;x</content></entry></feed>`,
		`<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>@h - N</title><item><guid>at://d/1</guid><link>https://bsky.app/p/1</link><description>t&#xA;u</description><pubDate>05 Mar 2026 14:20 +0000</pubDate><media:group><media:thumbnail url="https://i.example/t.jpg"/><media:description>d</media:description></media:group><media:content url="https://i.example/m.jpg" medium="image"><media:description>alt</media:description></media:content><enclosure url="https://a.example/e.mp3" type="audio/mpeg"/></item></channel></rss>`,
		`{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://j.example/1","content_text":"hi","date_published":"2026-03-01T10:00:00Z"}]}`,
		`<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head></html>`,
		`<rss><channel><item><title>no id</title></item><item></item></channel></rss>`,
	} {
		f.Add([]byte(seed))
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
