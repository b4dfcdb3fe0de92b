package slackapp_test

import (
	"context"
	"errors"
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
}

type claim struct {
	until     time.Time
	confirmed bool
}

func (c *sharedClaims) Claim(_ context.Context, key string, lease time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return false, errors.New("database unavailable")
	}
	if cl, ok := c.claims[key]; ok && (cl.confirmed || time.Now().Before(cl.until)) {
		return false, nil
	}
	if c.claims == nil {
		c.claims = make(map[string]claim)
	}
	c.claims[key] = claim{until: time.Now().Add(lease)}
	return true, nil
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
