package zoom_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calls/zoom"
	"github.com/townhall/townhall/integrations/calls/zoomtest"
	"github.com/townhall/townhall/slackapp"
)

// clock is a settable clock shared by the client and the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testBundle struct {
	clock  *clock
	fake   *zoomtest.Server
	client *zoom.Client
}

func setup(t *testing.T, opts ...zoomtest.Option) testBundle {
	t.Helper()
	clk := newClock()
	fake := zoomtest.New(t, append([]zoomtest.Option{zoomtest.WithClock(clk.Now)}, opts...)...)
	client, err := zoom.New(fake.Config(), fake.Client(), clk.Now)
	if err != nil {
		t.Fatalf("zoom.New: %v", err)
	}
	return testBundle{clock: clk, fake: fake, client: client}
}

func TestCreateMeeting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m, err := b.client.CreateMeeting(t.Context(), "Budget review")
	if err != nil {
		t.Fatalf("CreateMeeting: %v", err)
	}
	want := zoom.Meeting{ID: 85000000001, Topic: "Budget review", JoinURL: zoomtest.JoinURL(85000000001, "000001"), Password: "000001"}
	if m != want {
		t.Errorf("meeting = %+v, want %+v", m, want)
	}
	got := b.fake.Meetings()
	if len(got) != 1 {
		t.Fatalf("fake created %d meetings, want 1", len(got))
	}
	if c := got[0]; c.Type != 2 || !c.JoinBeforeHost || c.WaitingRoom || c.StartTime != "2026-03-02T09:30:00Z" {
		t.Errorf("request = %+v, want a scheduled meeting starting now that guests can join before the host", c)
	}
}

func TestCreateMeetingTruncatesTopic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	long := strings.Repeat("é", zoom.MaxTopic+50)
	if _, err := b.client.CreateMeeting(t.Context(), long); err != nil {
		t.Fatalf("CreateMeeting: %v", err)
	}
	if got := b.fake.Meetings()[0].Topic; got != strings.Repeat("é", zoom.MaxTopic) {
		t.Errorf("topic has %d runes, want %d", len([]rune(got)), zoom.MaxTopic)
	}
}

func TestTokenCaching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		lifetime   time.Duration
		advance    time.Duration
		wantTokens int
	}{
		{"reused within lifetime", time.Hour, 30 * time.Minute, 1},
		{"reused until a minute before expiry", time.Hour, 59*time.Minute - time.Second, 1},
		{"refreshed a minute before expiry", time.Hour, 59 * time.Minute, 2},
		{"refreshed after expiry", time.Hour, 2 * time.Hour, 2},
		{"short lifetime refreshed at 90%", 100 * time.Second, 90 * time.Second, 2},
		{"short lifetime reused before 90%", 100 * time.Second, 89 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, zoomtest.WithTokenLifetime(tt.lifetime))
			if _, err := b.client.CreateMeeting(t.Context(), "one"); err != nil {
				t.Fatalf("first CreateMeeting: %v", err)
			}
			b.clock.Advance(tt.advance)
			if _, err := b.client.CreateMeeting(t.Context(), "two"); err != nil {
				t.Fatalf("second CreateMeeting: %v", err)
			}
			if got := b.fake.TokensIssued(); got != tt.wantTokens {
				t.Errorf("tokens issued = %d, want %d", got, tt.wantTokens)
			}
			if got := b.fake.Requests(zoomtest.EndpointMeetings); got != 2 {
				t.Errorf("meeting requests = %d, want 2 (no 401 retries)", got)
			}
		})
	}
}

func TestConcurrentCallersShareOneToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := b.client.CreateMeeting(t.Context(), "standup")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("CreateMeeting: %v", err)
		}
	}
	if got := b.fake.TokensIssued(); got != 1 {
		t.Errorf("tokens issued = %d, want 1", got)
	}
	if got := b.fake.MeetingsCreated(); got != n {
		t.Errorf("meetings created = %d, want %d", got, n)
	}
}

func TestUnauthorizedRetriesOnceWithNewToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.client.CreateMeeting(t.Context(), "first"); err != nil {
		t.Fatalf("CreateMeeting: %v", err)
	}
	b.fake.RevokeTokens()
	if _, err := b.client.CreateMeeting(t.Context(), "after revoke"); err != nil {
		t.Fatalf("CreateMeeting after revoke: %v", err)
	}
	if got := b.fake.TokensIssued(); got != 2 {
		t.Errorf("tokens issued = %d, want 2", got)
	}
	if got := b.fake.Requests(zoomtest.EndpointMeetings); got != 3 {
		t.Errorf("meeting requests = %d, want 3 (one refused, retried)", got)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		inject        func(*zoomtest.Server)
		wantStatus    int
		wantRetryable bool
		wantMeetReqs  int
	}{
		{
			name:         "401 twice is not retried forever",
			inject:       func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 2, http.StatusUnauthorized) },
			wantStatus:   http.StatusUnauthorized,
			wantMeetReqs: 2,
		},
		{
			name:          "5xx on meetings is an error, not retried",
			inject:        func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 1, http.StatusServiceUnavailable) },
			wantStatus:    http.StatusServiceUnavailable,
			wantRetryable: true,
			wantMeetReqs:  1,
		},
		{
			name:          "429 is retryable",
			inject:        func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 1, http.StatusTooManyRequests) },
			wantStatus:    http.StatusTooManyRequests,
			wantRetryable: true,
			wantMeetReqs:  1,
		},
		{
			name:          "5xx on token",
			inject:        func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointToken, 1, http.StatusInternalServerError) },
			wantStatus:    http.StatusInternalServerError,
			wantRetryable: true,
			wantMeetReqs:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			tt.inject(b.fake)
			_, err := b.client.CreateMeeting(t.Context(), "x")
			var apiErr *zoom.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *zoom.APIError", err)
			}
			if apiErr.StatusCode != tt.wantStatus || apiErr.Retryable() != tt.wantRetryable {
				t.Errorf("err = %v (retryable %v), want status %d retryable %v", err, apiErr.Retryable(), tt.wantStatus, tt.wantRetryable)
			}
			if got := b.fake.Requests(zoomtest.EndpointMeetings); got != tt.wantMeetReqs {
				t.Errorf("meeting requests = %d, want %d", got, tt.wantMeetReqs)
			}
		})
	}
}

// TestNoSecretInErrors checks every failure path's error text for the
// client secret and every token the fake issued.
func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    func(zoom.Config) zoom.Config
		inject func(*zoomtest.Server)
	}{
		{"wrong secret", func(c zoom.Config) zoom.Config { c.ClientSecret += "x"; return c }, nil},
		{"wrong account", func(c zoom.Config) zoom.Config { c.AccountID = "nope"; return c }, nil},
		{"token refused twice", nil, func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 2, http.StatusUnauthorized) }},
		{"meetings down", nil, func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 1, http.StatusBadGateway) }},
		{"oauth down", nil, func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointToken, 1, http.StatusBadGateway) }},
		{"unreachable", func(c zoom.Config) zoom.Config {
			c.APIURL = "http://127.0.0.1:1/v2"
			return c
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := zoomtest.New(t)
			cfg := fake.Config()
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			if tt.inject != nil {
				tt.inject(fake)
			}
			client, err := zoom.New(cfg, fake.Client(), nil)
			if err != nil {
				t.Fatalf("zoom.New: %v", err)
			}
			_, err = client.CreateMeeting(t.Context(), "x")
			if err == nil {
				t.Fatal("CreateMeeting succeeded, want an error")
			}
			secrets := append(fake.IssuedTokens(), fake.ClientSecret.Reveal(), cfg.ClientSecret.Reveal())
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.client.CreateMeeting(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	_, err := zoom.New(zoom.Config{ClientSecret: slackapp.Secret(""), APIURL: "api.zoom.us", OAuthURL: "ftp://zoom.us/oauth"}, nil, nil)
	if err == nil {
		t.Fatal("New succeeded, want an error")
	}
	for _, want := range []string{"account ID", "client ID", "client secret", "OAuth URL", "API URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
