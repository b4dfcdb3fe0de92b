package slacktest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// bundle is a fake workspace with the real slack-go clients connected to it.
type bundle struct {
	srv     *slacktest.Server
	api     *slack.Client
	*client // the first socketmode client, unless noClient
}

// client is a running socketmode client.
type client struct {
	sm *socketmode.Client
	// requests receives every Socket Mode request the client got (events,
	// commands, interactions), already acknowledged unless manualAck.
	requests chan socketmode.Event
	// hellos receives every hello the client got.
	hellos chan socketmode.Event
}

type setupOptions struct {
	manualAck bool
	noClient  bool
	server    []slacktest.Option
}

// setup starts a server and, unless noClient, a socketmode client.
func setup(t testing.TB, o setupOptions) *bundle {
	t.Helper()
	srv := slacktest.New(t, o.server...)
	b := &bundle{srv: srv, api: newAPI(srv)}
	if !o.noClient {
		b.client = b.startClient(t, o.manualAck)
	}
	return b
}

func newAPI(srv *slacktest.Server) *slack.Client {
	return slack.New(srv.BotToken(), slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(srv.AppToken()))
}

// startClient runs a socketmode client until the test ends, its events
// drained by a goroutine that the test's cleanup waits for.
func (b *bundle) startClient(t testing.TB, manualAck bool) *client {
	t.Helper()
	c := &client{
		sm:       socketmode.New(newAPI(b.srv)),
		requests: make(chan socketmode.Event, 100),
		hellos:   make(chan socketmode.Event, 100),
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	wg.Go(func() {
		_ = c.sm.RunContext(ctx) // returns ctx's error at the end of the test
	})
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-c.sm.Events:
				var out chan socketmode.Event
				switch evt.Type {
				case socketmode.EventTypeHello:
					out = c.hellos
				case socketmode.EventTypeSlashCommand, socketmode.EventTypeEventsAPI, socketmode.EventTypeInteractive:
					if !manualAck {
						_ = c.sm.AckCtx(ctx, evt.Request.EnvelopeID, nil)
					}
					out = c.requests
				default:
					continue
				}
				select {
				case out <- evt:
				case <-ctx.Done():
					return
				}
			}
		}
	})
	return c
}

// next returns the next request the client received.
func (c *client) next(t testing.TB) socketmode.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case evt := <-c.requests:
		return evt
	case <-ctx.Done():
		t.Fatalf("no Socket Mode request received: %v", ctx.Err())
		return socketmode.Event{}
	}
}

// waitCtx returns a context for one wait in a test, bounded so that a broken
// test fails instead of hanging.
func waitCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
