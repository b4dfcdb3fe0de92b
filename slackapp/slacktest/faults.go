package slacktest

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// fault is one injected failure, consumed by the next call of its method.
type fault struct {
	status     int           // HTTP status, when slackError is empty
	retryAfter time.Duration // for 429
	slackError string        // an {"ok":false} error with HTTP 200
	hold       *Hold         // the call waits for Release instead
}

// Hold is a Web API call held unanswered by HoldNext: Slack being slow at
// the moment a client dies, say.
type Hold struct {
	arrived chan struct{}
	from    string // the caller's address, set before arrived is closed
	release chan struct{}
	once    sync.Once
	ended   chan struct{}
	served  bool // set before ended is closed
}

// HoldNext makes the next call of a Web API method wait, unanswered and
// unapplied, until Release (or Close). A released call is then served as
// usual; a call whose caller goes away while it is held (its connection
// closed, as when its process is killed) is dropped, applied never, as if
// it had not reached Slack. Holds queue with FailNext's failures.
func (s *Server) HoldNext(method string) *Hold {
	h := &Hold{arrived: make(chan struct{}), release: make(chan struct{}), ended: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], fault{hold: h})
	return h
}

// Wait waits until the held call has arrived and returns the caller's
// address (host:port of its end of the connection).
func (h *Hold) Wait(ctx context.Context) (from string, err error) {
	select {
	case <-h.arrived:
		return h.from, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Ended waits until the held call has been let through (served is true)
// or dropped because its caller went away or the server closed.
func (h *Hold) Ended(ctx context.Context) (served bool, err error) {
	select {
	case <-h.ended:
		return h.served, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// Release lets the held call through. Releasing twice, or a hold whose
// call has not arrived (it then goes through at once), is allowed.
func (h *Hold) Release() { h.once.Do(func() { close(h.release) }) }

// wait holds r until Release, the server's Close, or r's caller going
// away, and reports whether the call should be served.
func (h *Hold) wait(srv context.Context, r *http.Request) bool {
	h.from = r.RemoteAddr
	close(h.arrived)
	defer close(h.ended)
	select {
	case <-h.release:
		h.served = true
	case <-srv.Done():
	case <-r.Context().Done():
	}
	return h.served
}

// FailNext makes the next call of a Web API method (or of any response URL,
// with method "response_url") fail with the given HTTP status. A 429 carries
// a Retry-After header of retryAfter rounded up to whole seconds and the body
// {"ok":false,"error":"ratelimited"}, as Slack sends it
// (https://api.slack.com/docs/rate-limits), which slack-go turns into a
// *slack.RateLimitedError. Calls queue: two FailNext calls fail the next two
// calls. A failed call is counted by Calls but records nothing.
func (s *Server) FailNext(method string, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], fault{status: status, retryAfter: retryAfter})
}

// FailNextError makes the next call of a Web API method answer HTTP 200 with
// {"ok":false,"error":slackError}. For "response_url", which reports errors
// with an HTTP status, the answer is 404 for used_url, expired_url and
// invalid_url and 400 otherwise, with the same body.
func (s *Server) FailNextError(method, slackError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], fault{slackError: slackError})
}

// callLocked counts a call and takes the fault queued for it, if any.
// s.mu must be held.
func (s *Server) callLocked(method string) (fault, bool) {
	s.calls[method]++
	q := s.faults[method]
	if len(q) == 0 {
		return fault{}, false
	}
	f := q[0]
	if len(q) == 1 {
		delete(s.faults, method)
	} else {
		s.faults[method] = q[1:]
	}
	s.notifyLocked()
	return f, true
}

func writeFault(w http.ResponseWriter, method string, f fault) {
	switch {
	case f.slackError != "" && method == MethodResponseURL:
		status := http.StatusBadRequest
		switch f.slackError {
		case "used_url", "expired_url", "invalid_url":
			status = http.StatusNotFound
		}
		writeJSON(w, status, errorBody(f.slackError))
	case f.slackError != "":
		writeJSON(w, http.StatusOK, errorBody(f.slackError))
	case f.status == http.StatusTooManyRequests:
		secs := int(math.Ceil(f.retryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, f.status, errorBody("ratelimited"))
	default:
		// Slack answers 5xx with an HTML page; any body will do.
		http.Error(w, http.StatusText(f.status), f.status)
	}
}

func errorBody(code string) map[string]any { return map[string]any{"ok": false, "error": code} }
