package slackapp

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// maxRateLimitWaits bounds how many 429s in a row one Pacer call waits out.
const maxRateLimitWaits = 5

// Pacer spaces Web API calls of one tier at least Every apart and waits
// out 429s for Slack's Retry-After
// (https://docs.slack.dev/apis/web-api/rate-limits), for work that reads
// a lot through the Web API (the archive's catch-up and files, digests).
// Posting goes through Poster, which paces itself. Safe for concurrent use.
type Pacer struct {
	// Every is the least time between two calls; 0 does not wait.
	Every time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	next time.Time
}

// Call runs fn when the pace allows, and again after a 429's Retry-After,
// up to a few times in a row; it returns fn's last error.
func (p *Pacer) Call(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		if err := p.wait(ctx); err != nil {
			return err
		}
		err := fn()
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || attempt >= maxRateLimitWaits {
			return err
		}
		if err := sleep(ctx, rl.RetryAfter); err != nil {
			return err
		}
	}
}

func (p *Pacer) wait(ctx context.Context) error {
	if p.Every <= 0 {
		return ctx.Err()
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	p.mu.Lock()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.Every)
	p.mu.Unlock()
	return sleep(ctx, at.Sub(now))
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
