package feeds

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// memClaims is store.Claims in memory, without leases.
type memClaims struct {
	mu   sync.Mutex
	held map[string]bool // true: confirmed
}

func (c *memClaims) Claim(_ context.Context, key string, _ time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.held[key]; ok {
		return false, nil
	}
	c.held[key] = false
	return true, nil
}

func (c *memClaims) Confirm(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held[key] = true
	return nil
}

func (c *memClaims) Release(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, key)
	return nil
}

func (c *memClaims) PurgeClaims(context.Context, time.Time) (int, error) { return 0, nil }

// refusingPoster refuses, for good, the posts whose fallback text is in refuse.
type refusingPoster struct {
	refuse map[string]string // text → Slack's error code
	posted []string
}

func (p *refusingPoster) Post(_ context.Context, ch string, m slackapp.Message) (string, error) {
	if code, ok := p.refuse[m.Text]; ok {
		return "", &slackapp.SendError{Method: "chat.postMessage", Channel: ch, Code: code, Permanent: true, Err: errors.New(code)}
	}
	p.posted = append(p.posted, m.Text)
	return "1.0", nil
}

// Slack refusing one item's message (invalid_blocks) says nothing about the
// channel: the batch's other items are still posted there. The cursor moves
// past a refused batch, so an item skipped here is lost for good.
func TestOneRefusedItemDoesNotLoseTheBatch(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	items := []Item{{ID: "1", Text: "one"}, {ID: "2", Text: "two"}, {ID: "3", Text: "three"}}
	bad := itemMessage(items[0], time.UTC).Text
	p := &refusingPoster{refuse: map[string]string{bad: "invalid_blocks"}}
	i := &Integration{poster: p, claims: &memClaims{held: map[string]bool{}}, m: m, loc: time.UTC, log: slog.New(slog.DiscardHandler)}
	_, err = i.deliverTo(context.Background(), Subscription{ID: "1", Kind: KindFeed}, "C0NEWS", batch{items: items})
	if !slackapp.Permanent(err) {
		t.Errorf("deliverTo = %v, want the refusal reported", err)
	}
	if len(p.posted) != 2 {
		t.Errorf("posted %q, want the two items Slack accepts", p.posted)
	}
	// A channel that refuses everything stops at its first refusal.
	p = &refusingPoster{refuse: map[string]string{}}
	for _, it := range items {
		p.refuse[itemMessage(it, time.UTC).Text] = "channel_not_found"
	}
	i.poster, i.claims = p, &memClaims{held: map[string]bool{}}
	calls := 0
	i.poster = postFunc(func(ctx context.Context, ch string, msg slackapp.Message) (string, error) {
		calls++
		return p.Post(ctx, ch, msg)
	})
	if _, err := i.deliverTo(context.Background(), Subscription{ID: "1", Kind: KindFeed}, "C0GONE", batch{items: items}); !slackapp.Permanent(err) {
		t.Errorf("deliverTo = %v, want the refusal", err)
	}
	if calls != 1 {
		t.Errorf("%d posts tried in a channel that does not exist, want 1", calls)
	}
}

type postFunc func(context.Context, string, slackapp.Message) (string, error)

func (f postFunc) Post(ctx context.Context, ch string, m slackapp.Message) (string, error) {
	return f(ctx, ch, m)
}
