// Package zoomtest is a fake of the two Zoom endpoints the calls integration
// uses, served by net/http/httptest and speaking Zoom's JSON: the
// Server-to-Server OAuth token endpoint (POST /oauth/token with HTTP Basic
// client credentials, grant_type=account_credentials and account_id) and
// Create a meeting (POST /v2/users/me/meetings with a Bearer token). It
// checks what the real Zoom checks, counts what it issued, and injects
// faults. Point a zoom.Client at it with Server.Config.
//
// It is for tests only, and imports the zoom client's package only for its
// Config type and limits; it must never import an integration.
package zoomtest

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/townhall/townhall/integrations/calls/zoom"
	"github.com/townhall/townhall/slackapp"
)

// Endpoint names one of the fake's endpoints, for fault injection.
type Endpoint string

// The fake's endpoints.
const (
	EndpointToken    Endpoint = "token"    // POST /oauth/token
	EndpointMeetings Endpoint = "meetings" // POST /v2/users/me/meetings
)

// Paths the fake serves, relative to Server.URL.
const (
	OAuthPath = "/oauth/token"
	APIPath   = "/v2"
)

// DefaultTokenLifetime is what Zoom grants a Server-to-Server OAuth token
// (https://developers.zoom.us/docs/internal-apps/s2s-oauth/): one hour.
const DefaultTokenLifetime = time.Hour

// Option configures a Server.
type Option func(*Server)

// WithClock makes the fake judge token expiry by now instead of time.Now;
// share the clock with the client under test.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTokenLifetime sets the expires_in of issued tokens.
func WithTokenLifetime(d time.Duration) Option { return func(s *Server) { s.lifetime = d } }

// Server is a running fake. Its credentials are random per server.
type Server struct {
	URL          string // base URL: OAuth at URL+OAuthPath, API at URL+APIPath
	AccountID    string
	ClientID     string
	ClientSecret slackapp.Secret

	srv      *httptest.Server
	now      func() time.Time
	lifetime time.Duration

	mu       sync.Mutex
	tokens   map[string]time.Time // token -> expiry
	issued   []string
	meetings []CreatedMeeting
	faults   map[Endpoint]fault
	requests map[Endpoint]int
}

type fault struct {
	n      int
	status int
}

// CreatedMeeting is what a client asked for in a Create a meeting request,
// and the ID the fake gave it.
type CreatedMeeting struct {
	ID             int64
	Topic          string
	Type           int
	StartTime      string
	JoinBeforeHost bool
	WaitingRoom    bool
}

// New starts a fake Zoom and closes it when tb's test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		AccountID:    "acct-" + randomString(8),
		ClientID:     "client-" + randomString(8),
		ClientSecret: slackapp.Secret("secret-" + randomString(24)),
		now:          time.Now,
		lifetime:     DefaultTokenLifetime,
		tokens:       map[string]time.Time{},
		faults:       map[Endpoint]fault{},
		requests:     map[Endpoint]int{},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+OAuthPath, s.serveToken)
	mux.HandleFunc("POST "+APIPath+"/users/{user}/meetings", s.serveCreateMeeting)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Config returns a zoom.Config with the fake's credentials and URLs.
func (s *Server) Config() zoom.Config {
	return zoom.Config{
		AccountID:    s.AccountID,
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		APIURL:       s.URL + APIPath,
		OAuthURL:     s.URL + OAuthPath,
	}
}

// Client returns an HTTP client for the fake (its httptest client).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// FailNext makes the next n requests to e fail with status and Zoom's error
// JSON for that endpoint, before any other check.
func (s *Server) FailNext(e Endpoint, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[e] = fault{n: n, status: status}
}

// RevokeTokens invalidates every token issued so far, as deactivating and
// reactivating the app does; the next API call with one gets a 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// TokensIssued reports how many access tokens the fake has issued.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issued)
}

// IssuedTokens returns every access token issued, oldest first, so a test
// can check that none leaks into a log line or error.
func (s *Server) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// MeetingsCreated reports how many meetings the fake has created.
func (s *Server) MeetingsCreated() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.meetings)
}

// Meetings returns the meetings created, oldest first.
func (s *Server) Meetings() []CreatedMeeting {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CreatedMeeting(nil), s.meetings...)
}

// Requests reports how many requests reached e, failed ones included.
func (s *Server) Requests(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[e]
}

// JoinURL is the join URL the fake gives the meeting with id and passcode.
// Its host is under .invalid (RFC 2606), so nothing can follow it.
func JoinURL(id int64, passcode string) string {
	return fmt.Sprintf("https://zoomtest.invalid/j/%d?pwd=%s", id, passcode)
}

// takeFault counts a request to e and reports the status to fail it with, if any.
func (s *Server) takeFault(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[e]++
	f := s.faults[e]
	if f.n <= 0 {
		return 0
	}
	f.n--
	s.faults[e] = f
	return f.status
}

// oauthError writes the OAuth server's error shape.
func oauthError(w http.ResponseWriter, status int, code, reason string) {
	writeJSON(w, status, map[string]string{"error": code, "reason": reason})
}

// apiError writes the REST API's error shape (https://developers.zoom.us/docs/api/errors).
func apiError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if status := s.takeFault(EndpointToken); status != 0 {
		oauthError(w, status, "server_error", http.StatusText(status))
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Client ID or client secret is missing.")
		return
	}
	if !hmac.Equal([]byte(id), []byte(s.ClientID)) || !hmac.Equal([]byte(secret), []byte(s.ClientSecret.Reveal())) {
		oauthError(w, http.StatusBadRequest, "invalid_client", "Invalid client_id or client_secret")
		return
	}
	// Zoom reads the parameters from the query string or a form body.
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Malformed request.")
		return
	}
	if gt := r.Form.Get("grant_type"); gt != "account_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant type")
		return
	}
	if r.Form.Get("account_id") != s.AccountID {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid account_id")
		return
	}
	token := "eyJ" + randomString(40)
	s.mu.Lock()
	s.tokens[token] = s.now().Add(s.lifetime)
	s.issued = append(s.issued, token)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "bearer",
		"expires_in":   int64(s.lifetime / time.Second),
		"scope":        "meeting:write:meeting:admin user:read:user:admin",
		"api_url":      "https://api.zoom.us",
	})
}

// Zoom's meeting create request, as far as the fake checks it.
type meetingRequest struct {
	Topic     string `json:"topic"`
	Type      int    `json:"type"`
	StartTime string `json:"start_time"`
	Duration  int    `json:"duration"`
	Timezone  string `json:"timezone"`
	Settings  struct {
		JoinBeforeHost bool `json:"join_before_host"`
		WaitingRoom    bool `json:"waiting_room"`
	} `json:"settings"`
}

func (s *Server) serveCreateMeeting(w http.ResponseWriter, r *http.Request) {
	if status := s.takeFault(EndpointMeetings); status != 0 {
		apiError(w, status, status, http.StatusText(status))
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		apiError(w, http.StatusUnauthorized, 124, "Invalid access token.")
		return
	}
	s.mu.Lock()
	expiry, known := s.tokens[token]
	s.mu.Unlock()
	switch {
	case !known:
		apiError(w, http.StatusUnauthorized, 124, "Invalid access token.")
		return
	case !s.now().Before(expiry):
		apiError(w, http.StatusUnauthorized, 124, "Access token is expired.")
		return
	}
	if r.PathValue("user") != "me" {
		apiError(w, http.StatusNotFound, 1001, "User does not exist: "+r.PathValue("user"))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		apiError(w, http.StatusBadRequest, 300, "Unsupported Content Type")
		return
	}
	var req meetingRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, 300, "Request Body should be a valid JSON object.")
		return
	}
	switch req.Type {
	case 1, 2, 3, 8, 10:
	default:
		apiError(w, http.StatusBadRequest, 300, "Invalid field: type")
		return
	}
	if utf8.RuneCountInString(req.Topic) > zoom.MaxTopic {
		apiError(w, http.StatusBadRequest, 300, "Invalid field: topic")
		return
	}

	// IDs and passcodes are deterministic so that golden files are stable.
	s.mu.Lock()
	n := len(s.meetings) + 1
	id := 85000000000 + int64(n)
	s.meetings = append(s.meetings, CreatedMeeting{
		ID:             id,
		Topic:          req.Topic,
		Type:           req.Type,
		StartTime:      req.StartTime,
		JoinBeforeHost: req.Settings.JoinBeforeHost,
		WaitingRoom:    req.Settings.WaitingRoom,
	})
	s.mu.Unlock()
	passcode := fmt.Sprintf("%06d", n)
	idStr := strconv.FormatInt(id, 10)
	writeJSON(w, http.StatusCreated, map[string]any{
		"uuid":       "fakeuuid" + idStr + "==",
		"id":         id,
		"host_id":    "fakehost",
		"host_email": "owner@zoomtest.invalid",
		"topic":      req.Topic,
		"type":       req.Type,
		"status":     "waiting",
		"start_time": req.StartTime,
		"duration":   req.Duration,
		"timezone":   req.Timezone,
		"created_at": s.now().UTC().Format(time.RFC3339),
		"start_url":  "https://zoomtest.invalid/s/" + idStr + "?zak=hostkey",
		"join_url":   JoinURL(id, passcode),
		"password":   passcode,
		"settings": map[string]any{
			"join_before_host": req.Settings.JoinBeforeHost,
			"waiting_room":     req.Settings.WaitingRoom,
		},
		"pre_schedule": false,
	})
}

func randomString(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
