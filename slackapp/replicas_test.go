package slackapp_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// sharedClaims is what the replicas share: claims with leases, as the
// store keeps them (store.Store is the real Deduper; slackapp may not
// import it).
type sharedClaims struct {
	mu     sync.Mutex
	claims map[string]claim
	fail   bool // every call fails, as with the database away
	// dead, when set, says which owners are dead: their unconfirmed
	// claims taken more than deadAfter ago can be taken before their
	// leases end (store.WithOwner).
	dead      func(owner string) bool
	deadAfter time.Duration
}

type claim struct {
	until     time.Time
	confirmed bool
	owner     string // "" for claims through Claim, which has no owner
	at        time.Time
}

func (c *sharedClaims) Claim(_ context.Context, key string, lease time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return false, errors.New("database unavailable")
	}
	return c.claimLocked(key, "", lease), nil
}

// claimLocked takes key for owner unless it is confirmed or held by a
// live lease of a live owner. c.mu must be held.
func (c *sharedClaims) claimLocked(key, owner string, lease time.Duration) bool {
	if cl, ok := c.claims[key]; ok {
		deadOwner := cl.owner != "" && cl.owner != owner && c.dead != nil && time.Since(cl.at) > c.deadAfter && c.dead(cl.owner)
		if cl.confirmed || (time.Now().Before(cl.until) && !deadOwner) {
			return false
		}
	}
	if c.claims == nil {
		c.claims = make(map[string]claim)
	}
	c.claims[key] = claim{until: time.Now().Add(lease), owner: owner, at: time.Now()}
	return true
}

func (c *sharedClaims) Confirm(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("database unavailable")
	}
	c.claims[key] = claim{confirmed: true}
	return nil
}

// TestRedeliveryToAnotherReplicaHandledOnce: two replicas, each with its
// own connection to one workspace, share a Deduper. A request delivered to
// one and redelivered (its ack lost) to the other is handled once; without
// the shared Deduper, each replica's in-memory dedup cannot see the other's
// and it is handled twice.
func TestRedeliveryToAnotherReplicaHandledOnce(t *testing.T) {
	t.Parallel()
	mention := func(b *testBundle, ctx context.Context) (slacktest.Envelope, error) {
		return b.ws.Event(ctx, map[string]any{
			"type": "app_mention", "user": slacktest.MemberID, "channel": slacktest.GeneralID,
			"text": "<@" + b.rt.BotUserID() + "> hi", "ts": "1700000000.000100",
		})
	}
	command := func(b *testBundle, ctx context.Context) (slacktest.Envelope, error) {
		return b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: "once", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
	}
	for _, tc := range []struct {
		name      string
		send      func(*testBundle, context.Context) (slacktest.Envelope, error)
		deduper   *sharedClaims
		wantPosts int
	}{
		{"event, shared dedup", mention, &sharedClaims{}, 1},
		{"command, shared dedup", command, &sharedClaims{}, 1},
		{"event, in-memory dedup only", mention, nil, 2},
		{"event, shared dedup unavailable", mention, &sharedClaims{fail: true}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var handled atomic.Int64
			h := slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
				handled.Add(1)
				return r.Reply(ctx, slackapp.Message{Text: "hello"})
			})
			so := setupOpts{
				handlers: slackapp.Handlers{
					Events:   []slackapp.Event{{Type: "app_mention", Handler: h}},
					Commands: []slackapp.Command{{Name: "/echo", Handler: h}},
				},
				opts: func(o *slackapp.Options) {
					if tc.deduper != nil {
						o.Deduper = tc.deduper
					}
				},
			}
			one := setup(t, so)
			so.server = one.ws
			two := setup(t, so)
			ctx := waitCtx(t)
			if err := one.ws.WaitConnected(ctx, 2); err != nil {
				t.Fatal(err)
			}

			env, err := tc.send(one, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := one.ws.WaitAck(ctx, env.ID); err != nil {
				t.Fatal(err)
			}
			again, err := one.ws.Redeliver(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			if again.Conn == env.Conn {
				t.Fatalf("redelivered on connection %d, the original's; want the other replica's", again.Conn)
			}
			if _, err := one.ws.WaitAck(ctx, again.ID); err != nil {
				t.Fatalf("the redelivery must be acked too: %v", err)
			}
			for _, b := range []*testBundle{one, two} {
				if err := b.rt.WaitIdle(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if n := handled.Load(); n != int64(tc.wantPosts) {
				t.Errorf("handled %d times, want %d", n, tc.wantPosts)
			}
			if posts := one.ws.Posts(); len(posts) != tc.wantPosts {
				t.Errorf("%d answers, want %d", len(posts), tc.wantPosts)
			}
		})
	}
}

// waitState blocks until rt's ConnectionState satisfies ok.
func waitState(ctx context.Context, t *testing.T, rt *slackapp.Runtime, what string, ok func(slackapp.ConnectionState) bool) slackapp.ConnectionState {
	t.Helper()
	for {
		changed := rt.ConnectionChanged()
		if s := rt.ConnectionState(); ok(s) {
			return s
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; state is %+v", what, ctx.Err(), rt.ConnectionState())
		}
	}
}

// TestEleventhConnectionBacksOff: Slack allows 10 Socket Mode connections
// per app and refuses an 11th (too_many_websockets). The 11th replica backs
// off, doubling its wait up to the cap, says so in its state, and connects
// once a place is free.
func TestEleventhConnectionBacksOff(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t) // Slack's limit: slacktest.DefaultMaxConnections
	var ten []*testBundle
	for range slacktest.DefaultMaxConnections {
		ten = append(ten, setup(t, setupOpts{server: ws}))
	}
	ctx := waitCtx(t)
	const base, ceiling = 10 * time.Millisecond, 40 * time.Millisecond
	eleventh := setupRefused(t, ws, base, ceiling)

	s := waitState(ctx, t, eleventh, "a first refusal", func(s slackapp.ConnectionState) bool { return s.Refusals >= 1 })
	if s.Connected || !strings.Contains(s.String(), "too_many_websockets") || !strings.Contains(s.String(), "refused by Slack") {
		t.Errorf("state after a refusal = %q (%+v)", s, s)
	}
	// Each refusal in a row doubles the wait, up to the cap.
	for want, n := base, 1; n <= 4; n++ {
		s := waitState(ctx, t, eleventh, fmt.Sprint("refusal ", n), func(s slackapp.ConnectionState) bool { return s.Refusals >= n })
		if s.Refusals == n && s.Backoff != want {
			t.Errorf("refusal %d: backoff %v, want %v", n, s.Backoff, want)
		}
		want = min(2*want, ceiling)
	}
	if got := ws.Connections(); got != slacktest.DefaultMaxConnections {
		t.Errorf("%d connections open, want %d", got, slacktest.DefaultMaxConnections)
	}

	// A replica stops: the eleventh gets its place.
	ten[0].stop()
	if err := <-ten[0].done; err != nil {
		t.Fatal(err)
	}
	ten[0].done <- nil // for its cleanup
	s = waitState(ctx, t, eleventh, "connected", func(s slackapp.ConnectionState) bool { return s.Connected })
	if s.String() != "connected" || s.Refusals != 0 || s.Since.IsZero() {
		t.Errorf("state once connected = %q (%+v)", s, s)
	}
}

// setupRefused starts a runtime on ws with the given refusal backoff, not
// waiting for it to connect.
func setupRefused(t *testing.T, ws *slacktest.Server, base, ceiling time.Duration) *slackapp.Runtime {
	t.Helper()
	cfg := slackapp.Config{
		AppToken: slackapp.Secret(ws.AppToken()), BotToken: slackapp.Secret(ws.BotToken()), APIURL: ws.APIURL(),
		HandlerTimeout: 10 * time.Second, ShutdownTimeout: 5 * time.Second, MaxConcurrentHandlers: 4,
	}
	logs := &syncBuffer{}
	rt, err := slackapp.New(cfg, slackapp.Options{
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RefusedBackoff: base, RefusedBackoffMax: ceiling,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("eleventh runtime's logs:\n%s", logs)
		}
	})
	return rt
}

// TestConnectionsOpenRefusedIsShown: when apps.connections.open itself
// answers too_many_websockets, socketmode backs off on its own; the state
// says so until a connection opens.
func TestConnectionsOpenRefusedIsShown(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t)
	ws.FailNextError("apps.connections.open", "too_many_websockets")
	ws.FailNextError("apps.connections.open", "too_many_websockets")
	rt := setupRefused(t, ws, time.Millisecond, time.Millisecond)
	ctx := waitCtx(t)
	s := waitState(ctx, t, rt, "a refusal", func(s slackapp.ConnectionState) bool { return s.Refusals >= 1 })
	if s.Refusal != "too_many_websockets" || !strings.Contains(s.String(), "refused by Slack (too_many_websockets)") {
		t.Errorf("state = %q (%+v)", s, s)
	}
	s = waitState(ctx, t, rt, "connected", func(s slackapp.ConnectionState) bool { return s.Connected })
	if s.Refusals != 0 || s.String() != "connected" {
		t.Errorf("state once connected = %q (%+v)", s, s)
	}
	if n := ws.Calls("apps.connections.open"); n != 3 {
		t.Errorf("apps.connections.open called %d times, want 3 (two refusals, then the connection)", n)
	}
}
