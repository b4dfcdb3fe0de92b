package feeds_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// feedServer serves feed documents by path, as a website would: with an
// ETag, answering 304 to a matching If-None-Match, and faults on demand.
type feedServer struct {
	URL string

	mu       sync.Mutex
	docs     map[string]doc
	requests map[string]int
	cond     map[string]int // conditional requests received
	inFlight int
	maxSeen  int
}

type doc struct {
	body   string
	ctype  string
	status int // 0 = 200
	etag   string
	// retryAfter is the Retry-After header sent with status.
	retryAfter string
}

func newFeedServer(t testing.TB) *feedServer {
	t.Helper()
	s := &feedServer{docs: map[string]doc{}, requests: map[string]int{}, cond: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// set serves body at path from now on, with a new ETag.
func (s *feedServer) set(path, body, ctype string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docs[path]
	d.body, d.ctype, d.status = body, ctype, 0
	d.etag = `"` + time.Now().Format("150405.000000000") + `"`
	s.docs[path] = d
}

// fixture serves testdata/name at path, with old replaced by new.
func (s *feedServer) fixture(t testing.TB, path, name string, replace ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	ctype := "application/rss+xml"
	switch filepath.Ext(name) {
	case ".html":
		ctype = "text/html; charset=utf-8"
	case ".json":
		ctype = "application/feed+json"
	}
	s.set(path, strings.NewReplacer(replace...).Replace(string(b)), ctype)
}

// fail makes path answer status until set again.
func (s *feedServer) fail(path string, status int) { s.failRetryAfter(path, status, "") }

// failRetryAfter makes path answer status with a Retry-After header until
// set again.
func (s *feedServer) failRetryAfter(path string, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docs[path]
	d.status, d.retryAfter = status, retryAfter
	s.docs[path] = d
}

func (s *feedServer) count(path string) (requests, conditional int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path], s.cond[path]
}

func (s *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	s.inFlight++
	s.maxSeen = max(s.maxSeen, s.inFlight)
	d, ok := s.docs[r.URL.Path]
	inm := r.Header.Get("If-None-Match")
	if inm != "" {
		s.cond[r.URL.Path]++
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	switch {
	case !ok:
		http.NotFound(w, r)
	case d.status != 0:
		if d.retryAfter != "" {
			w.Header().Set("Retry-After", d.retryAfter)
		}
		http.Error(w, http.StatusText(d.status), d.status)
	case inm != "" && inm == d.etag:
		w.Header().Set("ETag", d.etag)
		w.WriteHeader(http.StatusNotModified)
	default:
		w.Header().Set("ETag", d.etag)
		w.Header().Set("Content-Type", d.ctype)
		_, _ = w.Write([]byte(d.body))
	}
}

// rssDoc is a small RSS document with items (guid, title), newest first.
func rssDoc(items ...[2]string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Test Blog</title><link>https://blog.test/</link>`)
	for _, it := range items {
		b.WriteString("<item><guid>" + it[0] + "</guid><title>" + it[1] + "</title><link>https://blog.test/" + it[0] + "</link></item>")
	}
	b.WriteString("</channel></rss>")
	return b.String()
}
