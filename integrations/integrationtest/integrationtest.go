// Package integrationtest runs an integration end to end for its tests:
// the real Slack runtime connected by Socket Mode to a fake workspace
// (slacktest), a SQLite store in a temporary directory, a scheduler and the
// host, wired as cmd/townhall wires them. Tests drive it as a user would
// and assert on what the workspace received. CheckImports keeps each
// integration's imports to the rules its package doc states.
//
// It is for tests only. It is not an integration: integrations may import
// it from their _test files.
package integrationtest

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/sqlite"
)

// Options adjust an Env; every field may be left zero.
type Options struct {
	// Now is the clock of the store, scheduler and host (default time.Now).
	// The Slack runtime itself always runs on real time.
	Now func() time.Time
	// Workspace configures the fake workspace; Workspace is reused when
	// set (a restart against the same Slack).
	Workspace     *slacktest.Server
	WorkspaceOpts []slacktest.Option
	// DatabasePath defaults to a new file in t.TempDir(); pass the same path
	// to a second Env to simulate a restart.
	DatabasePath string
	// StaffUsers are added to TOWNHALL_STAFF_USERS.
	StaffUsers []string
	// Location is the community's time zone (default UTC).
	Location *time.Location
}

// Env is one running app slice.
type Env struct {
	WS        *slacktest.Server
	Runtime   *slackapp.Runtime
	Store     *store.Store
	Scheduler *scheduler.Scheduler
	Host      *integrations.Host
	Logs      *Logs
	Location  *time.Location
	Now       func() time.Time

	stop context.CancelFunc
	done chan error
	once sync.Once
}

// Start builds the integration with build (which may use the Env's runtime,
// store and clock as its dependencies), serves it, and waits until the
// runtime is connected. The scheduler is built but not started: tests run
// jobs with RunJob, at the time they choose. Everything stops at cleanup,
// or earlier with Stop.
func Start(t testing.TB, o Options, build func(*Env) (integrations.Integration, error)) *Env {
	t.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	ws := o.Workspace
	if ws == nil {
		ws = slacktest.New(t, o.WorkspaceOpts...)
	}
	if o.DatabasePath == "" {
		o.DatabasePath = filepath.Join(t.TempDir(), "townhall.db")
	}
	logs := &Logs{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	st, err := sqlite.OpenStore(context.Background(), o.DatabasePath, store.WithClock(o.Now))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := scheduler.New(scheduler.Config{Timezone: o.Location.String()}, st, scheduler.Options{Logger: log, Now: o.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{WS: ws, Store: st, Scheduler: sched, Logs: logs, Location: o.Location, Now: o.Now, done: make(chan error, 1)}
	e.Runtime, err = slackapp.New(slackapp.Config{
		AppToken: slackapp.Secret(ws.AppToken()), BotToken: slackapp.Secret(ws.BotToken()), APIURL: ws.APIURL(),
		StaffUsers: o.StaffUsers, HandlerTimeout: 30 * time.Second, ShutdownTimeout: 10 * time.Second, MaxConcurrentHandlers: 64,
	}, slackapp.Options{
		Logger: log,
		Poster: slackapp.PosterOptions{ChannelInterval: time.Millisecond, WorkspaceInterval: time.Microsecond, RetryBase: 10 * time.Millisecond},
		Unrouted: slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
			return e.Host.Unrouted(ctx, r)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Host = integrations.NewHost(e.Runtime, sched, integrations.HostOptions{Logger: log, Now: o.Now, Location: o.Location})
	in, err := build(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Host.Add(in); err != nil {
		t.Fatal(err)
	}
	if err := e.Host.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.stop = cancel
	go func() { e.done <- e.Runtime.Run(ctx) }()
	t.Cleanup(func() { e.Stop(t) })
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := e.Runtime.WaitConnected(wctx); err != nil {
		t.Fatalf("runtime never connected: %v", err)
	}
	return e
}

// Stop shuts the runtime down (draining handlers) and closes the store, as
// a SIGTERM would. It is safe to call more than once.
func (e *Env) Stop(t testing.TB) {
	t.Helper()
	e.once.Do(func() {
		e.stop()
		if err := <-e.done; err != nil {
			t.Errorf("runtime: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Scheduler.Stop(ctx); err != nil {
			t.Errorf("scheduler: %v", err)
		}
		if err := e.Store.Close(); err != nil {
			t.Errorf("store: %v", err)
		}
		for _, secret := range []string{e.WS.AppToken(), e.WS.BotToken()} {
			if bytes.Contains([]byte(e.Logs.String()), []byte(secret)) {
				t.Error("a Slack token appeared in the logs")
			}
		}
	})
}

func wait(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// settle waits for env's ack and every handler it started, then returns
// the posts made since before.
func (e *Env) settle(t testing.TB, ctx context.Context, env slacktest.Envelope, before int) []slacktest.Post {
	t.Helper()
	if _, err := e.WS.WaitAck(ctx, env.ID); err != nil {
		t.Fatalf("envelope %s not acknowledged: %v", env.ID, err)
	}
	if err := e.Runtime.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	return e.WS.Posts()[before:]
}

// Command types "/command text" as user in channel and returns what the
// workspace received in answer.
func (e *Env) Command(t testing.TB, user, channel, command, text string) []slacktest.Post {
	t.Helper()
	ctx := wait(t)
	before := len(e.WS.Posts())
	env, err := e.WS.SlashCommand(ctx, slacktest.SlashCommand{Command: command, Text: text, UserID: user, ChannelID: channel})
	if err != nil {
		t.Fatal(err)
	}
	return e.settle(t, ctx, env, before)
}

// Event delivers an Events API event (the inner event, e.g. a
// reaction_added map) and returns what the workspace received in answer.
func (e *Env) Event(t testing.TB, event any, opts ...slacktest.EventOption) []slacktest.Post {
	t.Helper()
	ctx := wait(t)
	before := len(e.WS.Posts())
	env, err := e.WS.Event(ctx, event, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e.settle(t, ctx, env, before)
}

// Shortcut runs a message shortcut and returns what the workspace received.
func (e *Env) Shortcut(t testing.TB, s slacktest.MessageShortcut) []slacktest.Post {
	t.Helper()
	ctx := wait(t)
	before := len(e.WS.Posts())
	env, err := e.WS.MessageShortcut(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return e.settle(t, ctx, env, before)
}

// Action clicks a Block Kit element and returns what the workspace received.
func (e *Env) Action(t testing.TB, a slacktest.BlockAction) []slacktest.Post {
	t.Helper()
	ctx := wait(t)
	before := len(e.WS.Posts())
	env, err := e.WS.BlockAction(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return e.settle(t, ctx, env, before)
}

// RunJob runs a scheduled job now and returns what it posted. The job's
// error, if any, is returned too (a failing job is often what is tested).
func (e *Env) RunJob(t testing.TB, name string) ([]slacktest.Post, error) {
	t.Helper()
	ctx := wait(t)
	before := len(e.WS.Posts())
	err := e.Scheduler.RunNow(ctx, name)
	if werr := e.Runtime.WaitIdle(ctx); werr != nil {
		t.Fatal(werr)
	}
	return e.WS.Posts()[before:], err
}

// Logs is captured log output, safe for concurrent writers.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
