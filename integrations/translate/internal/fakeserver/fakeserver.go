// Package fakeserver is the machinery the provider fakes (googletest,
// libretest, deepltest) share: an httptest server, the requests and
// billed characters it records, the faults a test queues for it
// (FailNext) and the hold that stands in for latency (Hold, Held,
// Release). Each fake keeps its own routes, wire format and errors; this
// package knows none of them.
//
// It is for tests only and imports nothing from townhall.
package fakeserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Server is a running httptest server and what a fake records. The fake's
// handlers call Wait, Fault, Record and RecordDetection; its tests reach the rest
// through Controls, which the fake embeds. R is the fake's Request type.
type Server[R any] struct {
	// URL is the server's base URL, with no trailing slash.
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	requests []R
	detected []string // texts sent to a detect endpoint
	chars    int
	faults   []func(http.ResponseWriter)
	hold     chan struct{} // non-nil: requests wait until it is closed
	held     chan struct{} // signalled when a request starts waiting
}

// Start serves h on a new httptest server, closed (held requests
// released) at t's cleanup.
func Start[R any](t testing.TB, h http.Handler) *Server[R] {
	t.Helper()
	s := &Server[R]{srv: httptest.NewServer(h), held: make(chan struct{}, 64)}
	s.URL = s.srv.URL
	t.Cleanup(s.Controls().Close)
	return s
}

// Controls returns the methods the fake's tests call.
func (s *Server[R]) Controls() Controls[R] { return Controls[R]{s} }

// FailNext queues a fault: the next request that reaches Fault is answered
// by write, in the fake's own error format. Calls queue.
func (s *Server[R]) FailNext(write func(http.ResponseWriter)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, write)
}

// Wait blocks while the server is held, signalling Held as it starts to
// wait. It reports false if ctx (the request's) ends first: the client
// gave up, and the handler should write nothing.
func (s *Server[R]) Wait(ctx context.Context) bool {
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold == nil {
		return true
	}
	select {
	case s.held <- struct{}{}:
	default:
	}
	select {
	case <-hold:
		return true
	case <-ctx.Done():
		return false
	}
}

// Fault answers w with the next queued fault, if there is one, and
// reports whether it did.
func (s *Server[R]) Fault(w http.ResponseWriter) bool {
	s.mu.Lock()
	if len(s.faults) == 0 {
		s.mu.Unlock()
		return false
	}
	write := s.faults[0]
	s.faults = s.faults[1:]
	s.mu.Unlock()
	write(w)
	return true
}

// Record records a translation request and bills its characters.
func (s *Server[R]) Record(req R, chars int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
	s.chars += chars
}

// RecordDetection records the texts of a detection request and bills
// their characters.
func (s *Server[R]) RecordDetection(texts []string, chars int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detected = append(s.detected, texts...)
	s.chars += chars
}

// Controls are the methods every fake offers its tests, on its Server.
type Controls[R any] struct{ s *Server[R] }

// Close stops the server, releasing held requests first.
func (c Controls[R]) Close() {
	c.Release()
	c.s.srv.Close()
}

// Hold makes requests wait, until Release or until the client gives up.
func (c Controls[R]) Hold() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.hold == nil {
		c.s.hold = make(chan struct{})
	}
}

// Held receives once per request that starts waiting on Hold (up to 64
// unread signals are kept).
func (c Controls[R]) Held() <-chan struct{} { return c.s.held }

// Release lets held requests go on and stops holding new ones.
func (c Controls[R]) Release() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.hold != nil {
		close(c.s.hold)
		c.s.hold = nil
	}
}

// Requests returns the translation requests received, in order.
func (c Controls[R]) Requests() []R {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return slices.Clone(c.s.requests)
}

// Detections returns the texts sent to the detect endpoint, in order.
func (c Controls[R]) Detections() []string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return slices.Clone(c.s.detected)
}

// Characters returns the characters billed so far (what each fake bills
// is in its package doc).
func (c Controls[R]) Characters() int {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.chars
}
