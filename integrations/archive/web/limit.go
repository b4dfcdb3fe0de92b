package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// Defaults of archive.Config's search bounds, for a Config that leaves
// them zero (TOWNHALL_ARCHIVE_SEARCH_TIMEOUT, _SEARCH_PER_CLIENT).
const (
	defaultSearchTimeout   = 2 * time.Second
	defaultSearchPerClient = 2
)

// What a visitor reads when a search is refused or stopped.
const (
	msgTooManySearches = "You already have searches running. Wait for them to finish, then try again."
	msgBusy            = "Many searches are running right now. Please try again in a few seconds."
	msgTooBroad        = "That search is too broad to finish in time. Add words or filters (in:#channel, from:@name, after:2024-01-31) to narrow it."
)

// searchLimiter bounds the web archive's searches: how many one client
// may have running at once, and how long each may take.
type searchLimiter struct {
	timeout   time.Duration
	perClient int
	header    string

	mu      sync.Mutex
	running map[string]int // by client
}

func newSearchLimiter(cfg archive.Config) *searchLimiter {
	l := &searchLimiter{timeout: cfg.SearchTimeout, perClient: cfg.SearchPerClient,
		header: cfg.ClientIPHeader, running: map[string]int{}}
	if l.timeout <= 0 {
		l.timeout = defaultSearchTimeout
	}
	if l.perClient <= 0 {
		l.perClient = defaultSearchPerClient
	}
	return l
}

// acquire counts a search for client, unless it has perClient running.
func (l *searchLimiter) acquire(client string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[client] >= l.perClient {
		return false
	}
	l.running[client]++
	return true
}

func (l *searchLimiter) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running[client]--; l.running[client] <= 0 {
		delete(l.running, client)
	}
}

// client names who sent r: its IP address, from l.header when set (the
// last address of X-Forwarded-For: the one the proxy added), else the
// connection's. An IPv6 client is its /64, since one host has them all.
func (l *searchLimiter) client(r *http.Request) string {
	s := r.RemoteAddr
	if l.header != "" {
		if v := r.Header.Values(l.header); len(v) > 0 {
			list := strings.Split(v[len(v)-1], ",")
			s = strings.TrimSpace(list[len(list)-1])
		}
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	addr, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return s
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.WithZone("").Prefix(64)
		return p.String()
	}
	return addr.String()
}

// limitSearch wraps the search page: a client that already has
// SearchPerClient searches running is answered 429 with a page asking it
// to wait; any other search gets SearchTimeout (its context's deadline).
func (h *Handler) limitSearch(next http.HandlerFunc) http.HandlerFunc {
	l := newSearchLimiter(h.cfg)
	return func(w http.ResponseWriter, r *http.Request) {
		raw := strings.TrimSpace(r.URL.Query().Get("q"))
		if raw == "" { // the empty form searches nothing
			next(w, r)
			return
		}
		client := l.client(r)
		if !l.acquire(client) {
			w.Header().Set("Retry-After", strconv.Itoa(int(l.timeout.Seconds()+1)))
			h.render(w, r, http.StatusTooManyRequests, "search",
				page{Title: "Search: " + raw, Query: raw, Body: searchPage{Query: raw, Error: msgTooManySearches}}, 0)
			return
		}
		defer l.release(client)
		ctx, cancel := context.WithTimeout(r.Context(), l.timeout)
		defer cancel()
		next(w, r.WithContext(ctx))
	}
}

// searchFailed answers a search whose archive search returned err: a
// friendly page when it was too broad for its time (422) or could not
// start for the searches already running (503), the usual failure
// otherwise.
func (h *Handler) searchFailed(w http.ResponseWriter, r *http.Request, sp searchPage, err error) {
	status, reason := http.StatusUnprocessableEntity, "too broad"
	switch {
	case errors.Is(err, archive.ErrBusy):
		status, reason, sp.Error = http.StatusServiceUnavailable, "busy", msgBusy
		w.Header().Set("Retry-After", "5")
	case errors.Is(err, archive.ErrTooBroad):
		sp.Error = msgTooBroad
	default:
		h.fail(w, r, err)
		return
	}
	h.log.Info("web archive search stopped", "reason", reason)
	sp.Searched, sp.Hits = false, nil
	h.render(w, r, status, "search", page{Title: "Search: " + sp.Query, Query: sp.Query, Body: sp}, 0)
}
