// Package zoom is a small client for the two Zoom API calls the calls
// integration needs: a Server-to-Server OAuth access token
// (https://developers.zoom.us/docs/internal-apps/s2s-oauth/) and "Create a
// meeting" (POST /users/me/meetings,
// https://developers.zoom.us/docs/api/meetings/#tag/meetings/POST/users/{userId}/meetings).
//
// It imports only the standard library and slackapp (for Secret); it must
// never import an integration, the runtime's router, or the store.
package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/townhall/townhall/slackapp"
)

const (
	// MaxTopic is the longest meeting topic Zoom accepts, in characters
	// (the "topic" field of Create a meeting). Longer topics are cut.
	MaxTopic = 200

	// meetingScheduled is Zoom's meeting type 2. An instant meeting (type 1)
	// ignores join_before_host, so nobody could join until the account
	// owner started it; a scheduled meeting that starts now can be joined
	// at once.
	meetingScheduled = 2
	meetingDuration  = 60 // minutes; the meeting is not cut off after it

	// maxBody bounds what is read from any Zoom response.
	maxBody = 1 << 20
	// maxErrMessage bounds how much of Zoom's error text reaches an error.
	maxErrMessage = 200
	// maxSkew is how long before its stated expiry a token is refreshed.
	maxSkew = time.Minute
)

// Config says which Zoom account to use and where Zoom is.
type Config struct {
	AccountID    string
	ClientID     string
	ClientSecret slackapp.Secret
	APIURL       string // "https://api.zoom.us/v2"
	OAuthURL     string // "https://zoom.us/oauth/token"
}

// Meeting is a meeting created by CreateMeeting. The host's start URL is
// deliberately not kept: it carries a host key and must never be posted.
type Meeting struct {
	ID       int64
	Topic    string
	JoinURL  string // includes the encrypted passcode, so anyone with it can join
	Password string // the passcode, for people who dial in or type the ID
}

// Client creates Zoom meetings with a Server-to-Server OAuth app's
// credentials. Its access token is cached until shortly before it expires
// and refreshed by one caller at a time. A Client is safe for concurrent use.
type Client struct {
	cfg      Config
	hc       *http.Client
	now      func() time.Time
	tokenURL string
	meetURL  string

	// sem is a one-slot semaphore held while the token is read or
	// refreshed; a channel rather than a mutex so that waiting honours ctx.
	sem chan struct{}

	mu     sync.Mutex // guards token and expiry
	token  string
	expiry time.Time
}

// New returns a Client. hc nil means a client with a 10-second timeout; now
// nil means time.Now. It checks that the configuration is complete and that
// both URLs are absolute.
func New(cfg Config, hc *http.Client, now func() time.Time) (*Client, error) {
	var errs []error
	if cfg.AccountID == "" {
		errs = append(errs, errors.New("account ID is empty"))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("client ID is empty"))
	}
	if !cfg.ClientSecret.IsSet() {
		errs = append(errs, errors.New("client secret is empty"))
	}
	oauth, err := absURL(cfg.OAuthURL)
	if err != nil {
		errs = append(errs, fmt.Errorf("OAuth URL: %w", err))
	}
	api, err := absURL(cfg.APIURL)
	if err != nil {
		errs = append(errs, fmt.Errorf("API URL: %w", err))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("zoom: new client: %w", errors.Join(errs...))
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	q := oauth.Query()
	q.Set("grant_type", "account_credentials")
	q.Set("account_id", cfg.AccountID)
	oauth.RawQuery = q.Encode()
	api.Path = strings.TrimSuffix(api.Path, "/") + "/users/me/meetings"
	return &Client{
		cfg:      cfg,
		hc:       hc,
		now:      now,
		tokenURL: oauth.String(),
		meetURL:  api.String(),
		sem:      make(chan struct{}, 1),
	}, nil
}

func absURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return u, nil
}

// APIError is an error status from Zoom, with Zoom's own code and message
// when the body carried them. It never contains a credential or token.
type APIError struct {
	Op         string // "get token", "create meeting"
	StatusCode int
	Code       string // Zoom's "code" (API) or "error" (OAuth), if any
	Message    string // Zoom's "message" or "reason", if any
}

// Error reports the operation, the HTTP status and Zoom's explanation.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zoom: %s: HTTP %d", e.Op, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Retryable reports whether trying again later might succeed: rate limits
// and server errors might, a refused credential or request will not.
func (e *APIError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// CreateMeeting creates a meeting that starts now and that participants can
// join before the host, and returns its join URL. A topic longer than
// MaxTopic characters is cut. If Zoom refuses the cached token (401), the
// token is dropped and the call is tried once more with a fresh one.
func (c *Client) CreateMeeting(ctx context.Context, topic string) (Meeting, error) {
	body, err := json.Marshal(createMeetingRequest{
		Topic:     truncate(topic, MaxTopic),
		Type:      meetingScheduled,
		StartTime: c.now().UTC().Format("2006-01-02T15:04:05Z"),
		Duration:  meetingDuration,
		Timezone:  "UTC",
		Settings: meetingSettings{
			JoinBeforeHost: true,
			JBHTime:        0,
			WaitingRoom:    false,
			HostVideo:      true,
			ParticipantVid: true,
		},
	})
	if err != nil {
		return Meeting{}, fmt.Errorf("zoom: create meeting: encode: %w", err)
	}
	for attempt := 0; ; attempt++ {
		token, err := c.accessToken(ctx)
		if err != nil {
			return Meeting{}, err
		}
		m, err := c.createMeeting(ctx, token, body)
		var apiErr *APIError
		if attempt == 0 && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized {
			c.dropToken(token)
			continue
		}
		return m, err
	}
}

type createMeetingRequest struct {
	Topic     string          `json:"topic"`
	Type      int             `json:"type"`
	StartTime string          `json:"start_time"`
	Duration  int             `json:"duration"`
	Timezone  string          `json:"timezone"`
	Settings  meetingSettings `json:"settings"`
}

type meetingSettings struct {
	JoinBeforeHost bool `json:"join_before_host"`
	JBHTime        int  `json:"jbh_time"`
	WaitingRoom    bool `json:"waiting_room"`
	HostVideo      bool `json:"host_video"`
	ParticipantVid bool `json:"participant_video"`
}

type meetingResponse struct {
	ID       int64  `json:"id"`
	Topic    string `json:"topic"`
	JoinURL  string `json:"join_url"`
	Password string `json:"password"`
}

func (c *Client) createMeeting(ctx context.Context, token string, body []byte) (Meeting, error) {
	const op = "create meeting"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.meetURL, bytes.NewReader(body))
	if err != nil {
		return Meeting{}, fmt.Errorf("zoom: %s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	var resp meetingResponse
	if err := c.do(req, op, &resp, token); err != nil {
		return Meeting{}, err
	}
	if resp.JoinURL == "" {
		return Meeting{}, fmt.Errorf("zoom: %s: response has no join_url", op)
	}
	return Meeting{ID: resp.ID, Topic: resp.Topic, JoinURL: resp.JoinURL, Password: resp.Password}, nil
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"` // seconds
	Scope       string `json:"scope"`
}

// accessToken returns the cached token, or fetches a new one. Only one
// caller fetches at a time; the others wait (or give up with ctx) and then
// find the fresh token in the cache.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("zoom: get token: %w", context.Cause(ctx))
	}
	defer func() { <-c.sem }()

	now := c.now()
	c.mu.Lock()
	token, expiry := c.token, c.expiry
	c.mu.Unlock()
	if token != "" && now.Before(expiry) {
		return token, nil
	}

	token, lifetime, err := c.fetchToken(ctx)
	if err != nil {
		return "", err
	}
	skew := min(lifetime/10, maxSkew)
	c.mu.Lock()
	c.token, c.expiry = token, now.Add(lifetime-skew)
	c.mu.Unlock()
	return token, nil
}

// dropToken forgets token if it is still the cached one, so the next call
// fetches a new one (a token another caller already replaced is left alone).
func (c *Client) dropToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token, c.expiry = "", time.Time{}
	}
}

func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	const op = "get token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, nil)
	if err != nil {
		return "", 0, fmt.Errorf("zoom: %s: %w", op, err)
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret.Reveal())
	req.Header.Set("Accept", "application/json")
	var resp tokenResponse
	if err := c.do(req, op, &resp, ""); err != nil {
		return "", 0, err
	}
	if resp.AccessToken == "" {
		return "", 0, fmt.Errorf("zoom: %s: response has no access_token", op)
	}
	if !strings.EqualFold(resp.TokenType, "bearer") {
		return "", 0, fmt.Errorf("zoom: %s: token type %q, want bearer", op, truncate(resp.TokenType, 20))
	}
	if resp.ExpiresIn <= 0 {
		return "", 0, fmt.Errorf("zoom: %s: expires_in %d is not positive", op, resp.ExpiresIn)
	}
	return resp.AccessToken, time.Duration(resp.ExpiresIn) * time.Second, nil
}

// errorBody is both of Zoom's error shapes: the API's {"code", "message"}
// and the OAuth server's {"error", "reason"}.
type errorBody struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Error   string          `json:"error"`
	Reason  string          `json:"reason"`
}

// do sends req and decodes a 2xx JSON body into out, or returns an
// *APIError. Nothing from the request's credentials reaches an error; the
// client secret and token (if not "") are also scrubbed from Zoom's message.
func (c *Client) do(req *http.Request, op string, out any, token string) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		// A *url.Error names the URL, which carries only the account ID.
		return fmt.Errorf("zoom: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("zoom: %s: read response: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := &APIError{Op: op, StatusCode: resp.StatusCode}
		var eb errorBody
		if json.Unmarshal(data, &eb) == nil {
			apiErr.Code = strings.Trim(string(eb.Code), `"`)
			if apiErr.Code == "" {
				apiErr.Code = eb.Error
			}
			apiErr.Message = eb.Message
			if apiErr.Message == "" {
				apiErr.Message = eb.Reason
			}
		}
		apiErr.Code = c.scrub(truncate(apiErr.Code, 40), token)
		apiErr.Message = c.scrub(truncate(apiErr.Message, maxErrMessage), token)
		return apiErr
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("zoom: %s: decode response: %w", op, err)
	}
	return nil
}

func (c *Client) scrub(s, token string) string {
	if secret := c.cfg.ClientSecret.Reveal(); secret != "" {
		s = strings.ReplaceAll(s, secret, c.cfg.ClientSecret.String())
	}
	if token != "" {
		s = strings.ReplaceAll(s, token, "[redacted]")
	}
	return s
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
