// Package gcaltest is a fake Google Calendar API v3 for tests: an
// httptest.Server that answers events.list as Google does (JSON in the
// API's own shape, singleEvents expansion already done by the caller,
// timeMin/timeMax filtering, orderBy=startTime, maxResults and
// nextPageToken paging, Google's error bodies), checks an API key (in the
// X-Goog-Api-Key header or the key query parameter, as Google accepts it,
// counting the requests that put it in the URL) or a service account's
// OAuth token obtained from its own token endpoint, and injects failures. The real google.golang.org/api/calendar/v3 client is
// pointed at it with option.WithEndpoint(s.Endpoint()).
//
// It imports no townhall package.
package gcaltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/api/calendar/v3"
)

// TB is the part of testing.TB the server needs.
type TB interface {
	Helper()
	Cleanup(func())
	TempDir() string
	Fatalf(format string, args ...any)
}

// Server is the fake API.
type Server struct {
	srv *httptest.Server
	t   TB

	mu       sync.Mutex
	apiKey   string // required when set
	token    string // the access token handed out by /token
	events   map[string][]*calendar.Event
	zones    map[string]string
	failures []int
	lists    int // events.list requests answered
	keyInURL int // requests that sent the API key in the query string
}

// New starts a fake with no calendars, closed at the test's cleanup. With
// no API key set and no service account key written, it accepts requests
// without credentials.
func New(t TB) *Server {
	t.Helper()
	s := &Server{t: t, events: make(map[string][]*calendar.Event), zones: make(map[string]string)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /calendar/v3/calendars/{calendarId}/events", s.list)
	mux.HandleFunc("POST /token", s.tokenEndpoint)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// Endpoint is the API's base URL, for option.WithEndpoint.
func (s *Server) Endpoint() string { return s.srv.URL + "/calendar/v3/" }

// RequireAPIKey makes every events.list need the API key k, in the
// X-Goog-Api-Key header or the key query parameter.
func (s *Server) RequireAPIKey(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiKey = k
}

// ServiceAccountKeyFile writes a service account's JSON key file whose
// token_uri is this server, and from then on requires the OAuth token the
// server issues for it.
func (s *Server) ServiceAccountKeyFile() string {
	s.t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		s.t.Fatalf("gcaltest: generate key: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		s.t.Fatalf("gcaltest: marshal key: %v", err)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	file := map[string]string{
		"type":                        "service_account",
		"project_id":                  "townhall-test",
		"private_key_id":              hex.EncodeToString(id),
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                "townhall@townhall-test.iam.gserviceaccount.com",
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   s.srv.URL + "/token",
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"universe_domain":             "googleapis.com",
	}
	raw, _ := json.MarshalIndent(file, "", "  ")
	path := filepath.Join(s.t.TempDir(), "service-account.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		s.t.Fatalf("gcaltest: write key file: %v", err)
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	s.mu.Lock()
	s.token = "ya29.fake-" + hex.EncodeToString(tok)
	s.mu.Unlock()
	return path
}

// SetEvents replaces calendarID's events: instances as events.list returns
// them with singleEvents=true. timeZone is the calendar's zone.
func (s *Server) SetEvents(calendarID, timeZone string, events ...*calendar.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[calendarID] = events
	s.zones[calendarID] = timeZone
}

// FailNext makes the next requests fail with these HTTP statuses, in order,
// with Google's error body.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, statuses...)
}

// KeysInURL counts the requests that sent an API key in the URL (key=…),
// where proxies and logs see it.
func (s *Server) KeysInURL() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyInURL
}

// Lists counts the events.list requests answered with 200.
func (s *Server) Lists() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists
}

// googleError writes an error as the API does
// (https://developers.google.com/calendar/api/guides/errors).
func googleError(w http.ResponseWriter, code int, reason, message string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"errors":  []any{map[string]any{"domain": "global", "reason": reason, "message": message}},
		"code":    code,
		"message": message,
	}})
}

// tokenEndpoint answers a JWT-bearer grant (RFC 7523), as oauth2.googleapis.com/token does.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" ||
		strings.Count(r.PostForm.Get("assertion"), ".") != 2 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid JWT assertion."}`))
		return
	}
	s.mu.Lock()
	tok := s.token
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.Has("key") {
		s.keyInURL++
	}
	key := r.Header.Get("X-Goog-Api-Key")
	if key == "" {
		key = q.Get("key")
	}
	if len(s.failures) > 0 {
		code := s.failures[0]
		s.failures = s.failures[1:]
		googleError(w, code, "backendError", http.StatusText(code))
		return
	}
	switch {
	case s.apiKey != "" && key != s.apiKey:
		googleError(w, http.StatusBadRequest, "keyInvalid", "API key not valid. Please pass a valid API key.")
		return
	case s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token:
		googleError(w, http.StatusUnauthorized, "authError", "Invalid Credentials")
		return
	}
	id := r.PathValue("calendarId")
	events, ok := s.events[id]
	if !ok {
		googleError(w, http.StatusNotFound, "notFound", "Not Found")
		return
	}
	if q.Get("orderBy") == "startTime" && q.Get("singleEvents") != "true" {
		googleError(w, http.StatusBadRequest, "invalid", "The requested ordering is not available for the particular query.")
		return
	}
	var from, to time.Time
	var err error
	if v := q.Get("timeMin"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			googleError(w, http.StatusBadRequest, "badRequest", "Bad Request")
			return
		}
	}
	if v := q.Get("timeMax"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			googleError(w, http.StatusBadRequest, "badRequest", "Bad Request")
			return
		}
	}
	loc, _ := time.LoadLocation(s.zones[id])
	var match []*calendar.Event
	for _, ev := range events {
		start, end := bounds(ev, loc)
		if end.IsZero() {
			end = start
		}
		if (!to.IsZero() && !start.Before(to)) || (!from.IsZero() && !end.After(from)) {
			continue
		}
		if ev.Status == "cancelled" && q.Get("showDeleted") != "true" && ev.RecurringEventId == "" {
			continue
		}
		match = append(match, ev)
	}
	if q.Get("orderBy") == "startTime" {
		slices.SortStableFunc(match, func(a, b *calendar.Event) int {
			as, _ := bounds(a, loc)
			bs, _ := bounds(b, loc)
			return as.Compare(bs)
		})
	}
	size := 250
	if v, err := strconv.Atoi(q.Get("maxResults")); err == nil && v > 0 {
		size = min(v, 2500)
	}
	offset := 0
	if tok := q.Get("pageToken"); tok != "" {
		if offset, err = strconv.Atoi(strings.TrimPrefix(tok, "page-")); err != nil || offset < 0 || offset > len(match) {
			googleError(w, http.StatusBadRequest, "invalid", "Invalid page token value.")
			return
		}
	}
	page := &calendar.Events{Kind: "calendar#events", Summary: id, TimeZone: s.zones[id], AccessRole: "reader",
		Updated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano), Etag: fmt.Sprintf(`"%d"`, len(events))}
	end := min(offset+size, len(match))
	page.Items = match[offset:end]
	if page.Items == nil {
		page.Items = []*calendar.Event{}
	}
	if end < len(match) {
		page.NextPageToken = fmt.Sprintf("page-%d", end)
	}
	s.lists++
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(page)
}

// bounds returns an event's start and end instants.
func bounds(ev *calendar.Event, loc *time.Location) (time.Time, time.Time) {
	parse := func(dt *calendar.EventDateTime) time.Time {
		if dt == nil {
			return time.Time{}
		}
		if dt.DateTime != "" {
			t, _ := time.Parse(time.RFC3339, dt.DateTime)
			return t
		}
		l := loc
		if l == nil {
			l = time.UTC
		}
		t, _ := time.ParseInLocation(time.DateOnly, dt.Date, l)
		return t
	}
	return parse(ev.Start), parse(ev.End)
}
