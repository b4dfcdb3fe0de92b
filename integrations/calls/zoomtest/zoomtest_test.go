package zoomtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calls/zoom"
	"github.com/townhall/townhall/integrations/calls/zoomtest"
)

// post sends a raw request to the fake and decodes its JSON answer.
func post(t *testing.T, s *zoomtest.Server, path string, header http.Header, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, v
}

func tokenPath(s *zoomtest.Server, grant, account string) string {
	return zoomtest.OAuthPath + "?" + url.Values{"grant_type": {grant}, "account_id": {account}}.Encode()
}

func TestTokenEndpointChecks(t *testing.T) {
	t.Parallel()
	s := zoomtest.New(t)
	basic := func(id, secret string) http.Header {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.SetBasicAuth(id, secret)
		return r.Header
	}
	good := basic(s.ClientID, s.ClientSecret.Reveal())
	tests := []struct {
		name      string
		path      string
		header    http.Header
		wantCode  int
		wantError string
	}{
		{"issues a token", tokenPath(s, "account_credentials", s.AccountID), good, 200, ""},
		{"no basic auth", tokenPath(s, "account_credentials", s.AccountID), http.Header{}, 400, "invalid_request"},
		{"wrong secret", tokenPath(s, "account_credentials", s.AccountID), basic(s.ClientID, "nope"), 400, "invalid_client"},
		{"wrong grant", tokenPath(s, "client_credentials", s.AccountID), good, 400, "unsupported_grant_type"},
		{"wrong account", tokenPath(s, "account_credentials", "other"), good, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := post(t, s, tt.path, tt.header, "")
			if code != tt.wantCode {
				t.Errorf("status = %d, want %d (%v)", code, tt.wantCode, body)
			}
			if tt.wantError != "" && body["error"] != tt.wantError {
				t.Errorf("error = %v, want %q", body["error"], tt.wantError)
			}
			if tt.wantError == "" && (body["token_type"] != "bearer" || body["expires_in"] != 3600.0 || body["access_token"] == "") {
				t.Errorf("token response = %v", body)
			}
		})
	}
}

func TestMeetingsEndpointChecks(t *testing.T) {
	t.Parallel()
	s := zoomtest.New(t)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	withBearer := func(tok string) http.Header {
		h := jsonHeader.Clone()
		h.Set("Authorization", "Bearer "+tok)
		return h
	}
	tests := []struct {
		name     string
		path     string
		header   http.Header
		body     string
		wantCode int
	}{
		{"no token", "/v2/users/me/meetings", jsonHeader, `{"topic":"x","type":2}`, 401},
		{"unknown token", "/v2/users/me/meetings", withBearer("forged"), `{"topic":"x","type":2}`, 401},
		{"bad JSON", "/v2/users/me/meetings", nil, `{`, 400},
		{"bad type", "/v2/users/me/meetings", nil, `{"topic":"x","type":7}`, 400},
		{"topic too long", "/v2/users/me/meetings", nil, `{"topic":"` + strings.Repeat("x", 201) + `","type":2}`, 400},
		{"other user", "/v2/users/someone/meetings", nil, `{"topic":"x","type":2}`, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := tt.header
			if header == nil { // a valid token
				client, err := zoom.New(s.Config(), s.Client(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := client.CreateMeeting(t.Context(), "warm-up"); err != nil {
					t.Fatal(err)
				}
				header = withBearer(s.IssuedTokens()[len(s.IssuedTokens())-1])
			}
			code, body := post(t, s, tt.path, header, tt.body)
			if code != tt.wantCode {
				t.Errorf("status = %d, want %d (%v)", code, tt.wantCode, body)
			}
			if _, ok := body["message"]; !ok {
				t.Errorf("error body %v lacks Zoom's message", body)
			}
		})
	}
}

// TestExpiredTokenIsRefused makes the fake's clock run ahead of the
// client's: the client still trusts its token, Zoom refuses it as expired,
// and the client recovers with a fresh one.
func TestExpiredTokenIsRefused(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	serverNow := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clientNow := serverNow
	s := zoomtest.New(t, zoomtest.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return serverNow
	}))
	client, err := zoom.New(s.Config(), s.Client(), func() time.Time { return clientNow })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateMeeting(t.Context(), "one"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	serverNow = serverNow.Add(2 * time.Hour)
	mu.Unlock()
	if _, err := client.CreateMeeting(t.Context(), "two"); err != nil {
		t.Fatalf("CreateMeeting with an expired token: %v", err)
	}
	if got := s.TokensIssued(); got != 2 {
		t.Errorf("tokens issued = %d, want 2", got)
	}
	if got := s.Requests(zoomtest.EndpointMeetings); got != 3 {
		t.Errorf("meeting requests = %d, want 3", got)
	}
}
