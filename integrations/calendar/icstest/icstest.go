// Package icstest is a fake iCalendar feed server for tests: an
// httptest.Server that serves a calendar the way Google, Outlook and
// Nextcloud serve a public iCal address, with an ETag and Last-Modified,
// answering a matching If-None-Match or If-Modified-Since with 304 Not
// Modified. Tests change the feed with Set, inject failures with FailNext
// (and a Retry-After with FailNextRetryAfter) and count what was served
// with Stats.
//
// It imports no townhall package.
package icstest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// TB is the part of testing.TB the server needs.
type TB interface {
	Helper()
	Cleanup(func())
}

// Path is where the feed is served.
const Path = "/calendar/basic.ics"

// Server serves one feed at URL().
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	body     []byte
	etag     string
	modified time.Time
	failures []failure // answers to give, in order, before serving again
	stats    Stats
}

type failure struct {
	code       int
	retryAfter string
}

// Stats counts the requests served.
type Stats struct {
	Full        int // 200 with the feed
	NotModified int // 304
	Failed      int // injected failures
}

// New starts a server serving body, closed at the test's cleanup.
func New(t TB, body string) *Server {
	t.Helper()
	s := &Server{}
	s.set([]byte(body), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the feed's address.
func (s *Server) URL() string { return s.srv.URL + Path }

// Set replaces the feed; modified is its new Last-Modified (it must move
// forward for If-Modified-Since to see the change).
func (s *Server) Set(body string, modified time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set([]byte(body), modified)
}

func (s *Server) set(body []byte, modified time.Time) {
	sum := sha256.Sum256(body)
	s.body, s.etag, s.modified = body, `"`+hex.EncodeToString(sum[:8])+`"`, modified.UTC().Truncate(time.Second)
}

// FailNext makes the next len(statuses) requests answer with those HTTP
// statuses, in order.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, code := range statuses {
		s.failures = append(s.failures, failure{code: code})
	}
}

// FailNextRetryAfter makes the next request answer with status and a
// Retry-After header of retryAfter (seconds, or an HTTP date), as a feed
// server that is rate limiting (429) or down for maintenance (503) does.
func (s *Server) FailNextRetryAfter(status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{code: status, retryAfter: retryAfter})
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		s.stats.Failed++
		s.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(w, http.StatusText(f.code), f.code)
		return
	}
	body, etag, modified := s.body, s.etag, s.modified
	notModified := false
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		notModified = inm == etag
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil {
		notModified = !modified.After(ims)
	}
	if notModified {
		s.stats.NotModified++
	} else {
		s.stats.Full++
	}
	s.mu.Unlock()

	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", modified.Format(http.TimeFormat))
	h.Set("Cache-Control", "private, max-age=0")
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "text/calendar; charset=UTF-8")
	_, _ = w.Write(body)
}
