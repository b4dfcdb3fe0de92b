package slackapp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// testBundle is one runtime connected to one fake workspace.
type testBundle struct {
	ws   *slacktest.Server
	rt   *slackapp.Runtime
	logs *syncBuffer
	stop context.CancelFunc
	done chan error
}

type setupOpts struct {
	handlers slackapp.Handlers
	cfg      func(*slackapp.Config)
	opts     func(*slackapp.Options)
	ws       []slacktest.Option
	server   *slacktest.Server // nil: a new fake workspace with ws's options
}

// setup starts a fake workspace and a runtime serving h, and waits until
// the runtime is connected. The runtime stops at cleanup.
func setup(t testing.TB, so setupOpts) *testBundle {
	t.Helper()
	ws := so.server
	if ws == nil {
		ws = slacktest.New(t, so.ws...)
	}
	logs := &syncBuffer{}
	cfg := slackapp.Config{
		AppToken:              slackapp.Secret(ws.AppToken()),
		BotToken:              slackapp.Secret(ws.BotToken()),
		APIURL:                ws.APIURL(),
		HandlerTimeout:        10 * time.Second,
		ShutdownTimeout:       5 * time.Second,
		MaxConcurrentHandlers: 64,
	}
	if so.cfg != nil {
		so.cfg(&cfg)
	}
	opts := slackapp.Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Poster: slackapp.PosterOptions{ChannelInterval: time.Millisecond, WorkspaceInterval: time.Microsecond, RetryBase: 10 * time.Millisecond},
	}
	if so.opts != nil {
		so.opts(&opts)
	}
	rt, err := slackapp.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Register(so.handlers); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &testBundle{ws: ws, rt: rt, logs: logs, stop: cancel, done: make(chan error, 1)}
	go func() { b.done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-b.done; err != nil {
			t.Errorf("Run: %v", err)
		}
		for _, secret := range []string{ws.AppToken(), ws.BotToken()} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a token appeared in the logs")
			}
		}
		if t.Failed() {
			t.Logf("runtime logs:\n%s", logs)
		}
	})
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := rt.WaitConnected(wctx); err != nil {
		t.Fatalf("runtime never connected: %v", err)
	}
	return b
}

func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func echo(prefix string) slackapp.Handler {
	return slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
		return r.Reply(ctx, slackapp.Message{Text: prefix + r.Command.Text})
	})
}

func TestSlashCommandIsAckedAndAnswered(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/echo", Handler: echo("you said: ")}}}})
	ctx := waitCtx(t)

	env, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: "hello <!channel>", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	posts, err := b.ws.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := posts[0]
	if p.Method != "response_url" || p.ResponseType != "in_channel" || p.Channel != slacktest.GeneralID {
		t.Errorf("want an in-channel response in #general, got %+v", p)
	}
	if p.Text != "you said: hello <!channel>" {
		t.Errorf("text = %q", p.Text)
	}
}

func TestUnroutedCommandGetsEphemeralAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ctx := waitCtx(t)
	if _, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/feed", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID}); err != nil {
		t.Fatal(err)
	}
	posts, err := b.ws.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if posts[0].ResponseType != "ephemeral" || !strings.Contains(posts[0].Text, "not available") {
		t.Errorf("got %+v", posts[0])
	}
}

// TestAcksDoNotWaitForHandlers: every envelope is acked at once, even
// while every handler is still busy (as if each took seconds).
func TestAcksDoNotWaitForHandlers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var started sync.WaitGroup
	const n = 20
	started.Add(n)
	slow := slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
		started.Done()
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return r.Reply(ctx, slackapp.Message{Text: "done " + r.Command.Text})
	})
	b := setup(t, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/slow", Handler: slow}}}})
	ctx := waitCtx(t)

	var envs []slacktest.Envelope
	for i := range n {
		env, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/slow", Text: fmt.Sprint(i), UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	for _, env := range envs {
		ack, err := b.ws.WaitAck(ctx, env.ID)
		if err != nil {
			t.Fatalf("envelope %s not acked while handlers are busy: %v", env.ID, err)
		}
		if lat := ack.Received.Sub(env.Sent); lat > 3*time.Second {
			t.Errorf("ack took %s; Slack's deadline is 3 s", lat)
		}
	}
	started.Wait() // all handlers are running, none has answered
	if got := len(b.ws.Posts()); got != 0 {
		t.Fatalf("%d posts before release", got)
	}
	close(release)
	if _, err := b.ws.WaitPosts(ctx, n); err != nil {
		t.Fatal(err)
	}
}

func TestReconnects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		break_ func(ctx context.Context, ws *slacktest.Server)
	}{
		{"refresh_requested disconnect", func(ctx context.Context, ws *slacktest.Server) { ws.Disconnect(ctx, "refresh_requested") }},
		{"abrupt drop", func(_ context.Context, ws *slacktest.Server) { ws.DropConnections() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/echo", Handler: echo("")}}}})
			ctx := waitCtx(t)
			for round := 1; round <= 3; round++ {
				tc.break_(ctx, b.ws)
				if n, err := b.rt.WaitConnection(ctx, uint64(round)); err != nil || n != uint64(round+1) {
					t.Fatalf("round %d: want connection %d, got %d, %v", round, round+1, n, err)
				}
				if err := b.ws.WaitConnected(ctx, round+1); err != nil {
					t.Fatalf("round %d: no reconnect: %v", round, err)
				}
				env, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: fmt.Sprint("round ", round), UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.ws.WaitAck(ctx, env.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := b.ws.WaitPosts(ctx, round); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.rt.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			posts := b.ws.Posts()
			if len(posts) != 3 {
				t.Fatalf("want 3 answers, one per round, got %d: %+v", len(posts), posts)
			}
			for i, p := range posts {
				if want := fmt.Sprint("round ", i+1); p.Text != want {
					t.Errorf("answer %d = %q, want %q", i, p.Text, want)
				}
			}
		})
	}
}

// TestRedeliveredEventHandledOnce: an app_mention whose ack was lost is
// redelivered with retry_attempt 1 and the same event_id; it gets one
// answer, not two.
func TestRedeliveredEventHandledOnce(t *testing.T) {
	t.Parallel()
	reply := slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
		return r.Reply(ctx, slackapp.Message{Text: "hello"})
	})
	b := setup(t, setupOpts{handlers: slackapp.Handlers{Events: []slackapp.Event{{Type: "app_mention", Handler: reply}}}})
	ctx := waitCtx(t)
	env, err := b.ws.Event(ctx, map[string]any{
		"type": "app_mention", "user": slacktest.MemberID, "channel": slacktest.GeneralID,
		"text": "<@" + b.rt.BotUserID() + "> hi", "ts": "1700000000.000100",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	again, err := b.ws.Redeliver(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ws.WaitAck(ctx, again.ID); err != nil {
		t.Fatalf("the redelivery must be acked too: %v", err)
	}
	if err := b.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	posts := b.ws.Posts()
	if len(posts) != 1 {
		t.Fatalf("want exactly one answer, got %d", len(posts))
	}
	if posts[0].ThreadTS != "1700000000.000100" || posts[0].Method != "chat.postMessage" {
		t.Errorf("want a threaded reply to the mention, got %+v", posts[0])
	}
}

// TestRedeliveredCommandHandledOnce: a slash command whose ack was lost
// and which comes again in a new envelope is answered once.
func TestRedeliveredCommandHandledOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/echo", Handler: echo("")}}}})
	ctx := waitCtx(t)
	env, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: "once", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	again, err := b.ws.Redeliver(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == env.ID {
		t.Fatal("the fake should redeliver in a new envelope")
	}
	if _, err := b.ws.WaitAck(ctx, again.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if posts := b.ws.Posts(); len(posts) != 1 {
		t.Fatalf("want one answer, got %d", len(posts))
	}
}

func TestPoster(t *testing.T) {
	t.Parallel()
	t.Run("429 Retry-After gives exactly one post after the wait", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		ctx := waitCtx(t)
		b.ws.FailNext("chat.postMessage", 429, time.Second)
		start := time.Now()
		ts, err := b.rt.Poster().Post(ctx, slacktest.GeneralID, slackapp.Message{Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("posted after %s, before Retry-After elapsed", waited)
		}
		posts := b.ws.Posts()
		if len(posts) != 1 || posts[0].TS != ts {
			t.Fatalf("want exactly one post, got %+v", posts)
		}
		if calls := b.ws.Calls("chat.postMessage"); calls != 2 {
			t.Errorf("chat.postMessage called %d times, want 2", calls)
		}
	})
	t.Run("transient 500 is retried", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		ctx := waitCtx(t)
		b.ws.FailNext("chat.postMessage", 500, 0)
		if _, err := b.rt.Poster().Post(ctx, slacktest.GeneralID, slackapp.Message{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		if got := len(b.ws.Posts()); got != 1 {
			t.Errorf("want one post, got %d", got)
		}
	})
	t.Run("permanent error is not retried and is reported", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		ctx := waitCtx(t)
		b.ws.FailNextError("chat.postMessage", "is_archived")
		_, err := b.rt.Poster().Post(ctx, slacktest.GeneralID, slackapp.Message{Text: "hi"})
		if !slackapp.Permanent(err) {
			t.Fatalf("want a permanent error, got %v", err)
		}
		var se *slackapp.SendError
		if !errors.As(err, &se) || se.Code != "is_archived" {
			t.Errorf("want code is_archived, got %v", err)
		}
		if calls := b.ws.Calls("chat.postMessage"); calls != 1 {
			t.Errorf("chat.postMessage called %d times, want 1", calls)
		}
		if !strings.Contains(b.logs.String(), "the channel is archived") {
			t.Errorf("the refusal was not logged clearly:\n%s", b.logs)
		}
	})
	t.Run("joins a public channel it is not in", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		ctx := waitCtx(t)
		if _, err := b.rt.Poster().Post(ctx, slacktest.RandomID, slackapp.Message{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		if posts := b.ws.Posts(); len(posts) != 1 || posts[0].Channel != slacktest.RandomID {
			t.Errorf("got %+v", posts)
		}
	})
	t.Run("unknown channel is permanent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		ctx := waitCtx(t)
		_, err := b.rt.Poster().Post(ctx, "C0NOPE", slackapp.Message{Text: "hi"})
		if !slackapp.Permanent(err) {
			t.Fatalf("want permanent, got %v", err)
		}
	})
}

func TestPanickingHandlerDoesNotStopTheRuntime(t *testing.T) {
	t.Parallel()
	boom := slackapp.HandlerFunc(func(context.Context, *slackapp.Request) error { panic("boom") })
	b := setup(t, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{
		{Name: "/boom", Handler: boom}, {Name: "/echo", Handler: echo("")},
	}}})
	ctx := waitCtx(t)
	var envs []slacktest.Envelope
	for _, c := range []string{"/boom", "/echo"} {
		env, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: c, Text: "still here", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	posts, err := b.ws.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if posts[0].Text != "still here" {
		t.Errorf("got %q", posts[0].Text)
	}
	// The echo may answer before /boom's handler has panicked and logged:
	// the runtime counts a handler as busy before it acks its envelope, so
	// once both are acked, WaitIdle returns after the panic was logged.
	for _, env := range envs {
		if _, err := b.ws.WaitAck(ctx, env.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.logs.String(), "handler panic: boom") {
		t.Error("the panic was not logged")
	}
}

func TestShutdownDrainsInFlightHandlers(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	h := slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
		close(started)
		<-release
		return r.Reply(ctx, slackapp.Message{Text: "finished"})
	})
	b := setup(t, setupOpts{handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/work", Handler: h}}}})
	ctx := waitCtx(t)
	if _, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/work", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID}); err != nil {
		t.Fatal(err)
	}
	<-started
	b.stop() // SIGTERM arrives while the handler works
	close(release)
	if _, err := b.ws.WaitPosts(ctx, 1); err != nil {
		t.Fatalf("the in-flight handler's answer was lost at shutdown: %v", err)
	}
}

func TestShutdownIsBounded(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	stuck := slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	b := setup(t, setupOpts{
		handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/stuck", Handler: stuck}}},
		cfg:      func(c *slackapp.Config) { c.ShutdownTimeout = 50 * time.Millisecond },
	})
	ctx := waitCtx(t)
	if _, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/stuck", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID}); err != nil {
		t.Fatal(err)
	}
	<-started
	b.stop()
	select {
	case err := <-b.done:
		b.done <- err // for cleanup
	case <-ctx.Done():
		t.Fatal("Run did not return after the shutdown grace period")
	}
}

func TestIsStaff(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{cfg: func(c *slackapp.Config) { c.StaffUsers = []string{"U0LISTED"} }})
	ctx := waitCtx(t)
	for user, want := range map[string]bool{slacktest.AdminID: true, slacktest.MemberID: false, "U0LISTED": true} {
		got, err := b.rt.IsStaff(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("IsStaff(%s) = %v, want %v", user, got, want)
		}
	}
}

func TestRegisterRejectsDuplicates(t *testing.T) {
	t.Parallel()
	rt, err := slackapp.New(slackapp.Config{AppToken: "xapp-1", BotToken: "xoxb-1", APIURL: "http://127.0.0.1:1/api/",
		HandlerTimeout: time.Second, ShutdownTimeout: time.Second, MaxConcurrentHandlers: 1}, slackapp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := slackapp.Handlers{Commands: []slackapp.Command{{Name: "/call", Handler: echo("")}}}
	if err := rt.Register(h); err != nil {
		t.Fatal(err)
	}
	if err := rt.Register(h); err == nil || !strings.Contains(err.Error(), "/call") {
		t.Errorf("want an error naming /call, got %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (the logger).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
