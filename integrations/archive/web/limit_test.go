package web

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
)

func newTestHandler(t *testing.T, cfg archive.Config) *Handler {
	t.Helper()
	a, err := sqlitearchive.Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.PutMessages(t.Context(), []archive.Message{{Channel: "C1", TS: "1700000000.000100", User: "U1", Text: "hello world"}}); err != nil {
		t.Fatal(err)
	}
	h, err := New(cfg, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSearchPerClient: a client with SearchPerClient searches running is
// answered 429 with a page saying so; another client still searches.
func TestSearchPerClient(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, archive.Config{SearchPerClient: 2})
	started, release := make(chan struct{}), make(chan struct{})
	limited := h.limitSearch(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Deadline(); !ok {
			t.Error("a search without a deadline")
		}
		select {
		case started <- struct{}{}:
			<-release
		case <-release: // released: searches run through
		}
		w.WriteHeader(http.StatusOK)
	})
	request := func(addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/search?q=hello", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		limited(rec, req)
		return rec
	}
	done := make(chan int, 3)
	for range 2 {
		go func() { done <- request("192.0.2.1:1000").Code }()
		<-started
	}
	rec := request("192.0.2.1:2000")
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "You already have searches running") || rec.Header().Get("Retry-After") == "" {
		t.Errorf("third search of one client: %d %q, Retry-After %q", rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"))
	}
	go func() { done <- request("198.51.100.7:1000").Code }()
	<-started
	close(release)
	for range 3 {
		if code := <-done; code != http.StatusOK {
			t.Errorf("search answered %d", code)
		}
	}
	if rec := request("192.0.2.1:3000"); rec.Code != http.StatusOK { // its searches ended
		t.Errorf("after its searches ended: %d", rec.Code)
	}
}

func TestSearchClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, remote, value, want string
	}{
		{"", "192.0.2.1:5000", "", "192.0.2.1"},
		{"", "[2001:db8:1:2:3:4:5:6]:5000", "", "2001:db8:1:2::/64"},
		{"", "[::ffff:192.0.2.9]:80", "", "192.0.2.9"},
		{"X-Forwarded-For", "10.0.0.1:5000", "203.0.113.5, 198.51.100.2", "198.51.100.2"},
		{"X-Real-IP", "10.0.0.1:5000", "203.0.113.5", "203.0.113.5"},
		{"X-Real-IP", "10.0.0.1:5000", "", "10.0.0.1"},
	}
	for _, tt := range tests {
		l := newSearchLimiter(archive.Config{ClientIPHeader: tt.header})
		r := httptest.NewRequest("GET", "/search?q=x", nil)
		r.RemoteAddr = tt.remote
		if tt.value != "" {
			r.Header.Set(tt.header, tt.value)
		}
		if got := l.client(r); got != tt.want {
			t.Errorf("client(%s %q, %s) = %q, want %q", tt.header, tt.value, tt.remote, got, tt.want)
		}
	}
}

// TestSearchTooBroad: a search that runs out of its time answers a page
// asking for more words or filters, and is not cached.
func TestSearchTooBroad(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, archive.Config{SearchTimeout: time.Nanosecond})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/search?q=hello", nil))
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "too broad to finish in time") ||
		strings.Contains(rec.Body.String(), "Nothing matches") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("too broad: %d %s %q", rec.Code, rec.Header().Get("Cache-Control"), rec.Body.String())
	}
	h = newTestHandler(t, archive.Config{})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/search?q="+strings.Repeat("w1*+w2*+", 50), nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "w1* and w2* are searched as whole words") {
		t.Errorf("bounded search: %d %q", rec.Code, rec.Body.String())
	}
}
