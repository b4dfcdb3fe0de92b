package calendar

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/townhall/townhall/integrations/calendar/gcal"
	"github.com/townhall/townhall/integrations/calendar/ics"
)

// Event is one instance of an event, from either kind of source, with
// times as instants.
type Event struct {
	Source      string // Source.Key()
	InstanceID  string // stable across moves: UID (and original start) or Google's event ID
	Title       string
	Description string
	Location    string
	URL         string // the event's page, if any
	JoinURL     string // a video meeting link, if any
	Start, End  time.Time
	AllDay      bool
}

// fetcher reads a source's events for a window.
type fetcher interface {
	// fetch refreshes the source for the window [from, to) (an ICS feed
	// is read whole, and not parsed again when unchanged). On error the
	// last good events stay.
	fetch(ctx context.Context, from, to time.Time) (warnings []string, err error)
	// events returns the last good events overlapping [from, to), nil if
	// there were never any.
	events(from, to time.Time) []Event
}

// sourceState is a source's fetcher and health. The fetcher keeps the last
// good events, so a failing source keeps showing them.
type sourceState struct {
	Source
	f fetcher

	fetchMu sync.Mutex // held by the fetch in flight; others do not wait for it

	mu        sync.Mutex
	ok        bool // a fetch ever succeeded
	lastGood  time.Time
	lastErr   string
	lastErrAt time.Time
	failures  int
	// failingSince is when the current run of failures began.
	failingSince time.Time
	nextTry      time.Time
	warnings     int
	// pausedUntil is when a server that answered 429 or 503 with
	// Retry-After asked to be asked again (zero if it did not).
	pausedUntil time.Time
	pausedBy    int // that answer's status
}

// Backoff after a failed fetch: a minute, doubling, up to the poll
// interval or maxBackoff, whichever is longer. A Retry-After on a 429 or
// 503 is honoured up to that same limit.
const (
	minBackoff = time.Minute
	maxBackoff = 15 * time.Minute
)

// refresh fetches the source if it is due at now and no fetch of it is in
// flight (that one's result will serve), within fetchTimeout. fetched
// reports whether it fetched; err is the error of a fetch that failed (the
// source's last good events stay); news are the warnings of a successful
// one when their number changed.
func (s *sourceState) refresh(ctx context.Context, now time.Time, poll, lookahead time.Duration) (news []string, fetched bool, err error) {
	if !s.fetchMu.TryLock() {
		return nil, false, nil
	}
	defer s.fetchMu.Unlock()
	s.mu.Lock()
	due := !now.Before(s.nextTry)
	s.mu.Unlock()
	if !due {
		return nil, false, nil
	}
	fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	warnings, err := s.f.fetch(fctx, now.Add(-24*time.Hour), now.Add(lookahead))
	cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.failures == 0 {
			s.failingSince = now
		}
		s.failures++
		limit := max(poll, maxBackoff)
		backoff := min(minBackoff<<min(s.failures-1, 10), limit)
		s.pausedUntil, s.pausedBy = time.Time{}, 0
		var se *ics.StatusError
		if errors.As(err, &se) && (se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable) {
			if wait := min(se.Wait(now), limit); wait > 0 {
				backoff = max(backoff, wait)
				s.pausedUntil, s.pausedBy = now.Add(wait), se.Code
			}
		}
		s.nextTry = now.Add(backoff)
		s.lastErr, s.lastErrAt = err.Error(), now
		return nil, true, fmt.Errorf("calendar %s: fetch: %w", s.Label(), err)
	}
	s.pausedUntil, s.pausedBy = time.Time{}, 0
	if len(warnings) != s.warnings {
		news = warnings
	}
	s.ok, s.lastGood, s.failures, s.nextTry, s.warnings, s.failingSince = true, now, 0, now.Add(poll), len(warnings), time.Time{}
	return news, true, nil
}

// fetchTimeout bounds one fetch of one source: a slow or hanging feed
// holds up only its own reminders, for at most this long (under the
// reminder job's minute), after which its last good events are used.
const fetchTimeout = 30 * time.Second

// icsFetcher reads an ICS feed.
type icsFetcher struct {
	key    string
	client *ics.Client
}

func (f *icsFetcher) fetch(ctx context.Context, _, _ time.Time) ([]string, error) {
	cal, _, err := f.client.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	return cal.Warnings, nil
}

func (f *icsFetcher) events(from, to time.Time) []Event {
	cal := f.client.Last()
	if cal == nil {
		return nil
	}
	instances := cal.Expand(from, to)
	out := make([]Event, 0, len(instances))
	for _, in := range instances {
		out = append(out, Event{
			Source: f.key, InstanceID: in.InstanceID, Title: in.Summary, Description: in.Description,
			Location: in.Location, URL: webURL(in.URL), Start: in.Start, End: in.End, AllDay: in.AllDay,
		})
	}
	return out
}

// googleFetcher reads a Google calendar's window at each fetch.
type googleFetcher struct {
	key, id string
	client  *gcal.Client

	mu       sync.Mutex
	from, to time.Time // the window last read
	list     []Event
}

func (f *googleFetcher) fetch(ctx context.Context, from, to time.Time) ([]string, error) {
	list, warns, err := f.client.List(ctx, f.id, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(list))
	for _, g := range list {
		id := g.ID
		if g.RecurringEventID != "" && !g.OriginalStart.IsZero() {
			id = g.RecurringEventID + "/" + g.OriginalStart.UTC().Format("20060102T150405Z")
		}
		out = append(out, Event{
			Source: f.key, InstanceID: id, Title: g.Summary, Description: g.Description, Location: g.Location,
			URL: webURL(g.HTMLLink), JoinURL: webURL(g.JoinURL), Start: g.Start, End: g.End, AllDay: g.AllDay,
		})
	}
	var warnings []string
	for _, w := range warns {
		warnings = append(warnings, fmt.Sprintf("event %s skipped: %v", w.ID, w.Err))
	}
	f.mu.Lock()
	f.from, f.to, f.list = from, to, out
	f.mu.Unlock()
	return warnings, nil
}

func (f *googleFetcher) events(from, to time.Time) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Event
	for _, e := range f.list {
		if e.Start.Before(to) && (e.End.After(from) || !e.Start.Before(from)) {
			out = append(out, e)
		}
	}
	return out
}

// webURL returns s if it is an absolute http(s) URL, else "": only such
// links go behind buttons.
func webURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s) > 3000 {
		return ""
	}
	return s
}
