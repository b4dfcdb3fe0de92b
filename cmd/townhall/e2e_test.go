package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar/examples"
	"github.com/townhall/townhall/integrations/calls"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
	"github.com/townhall/townhall/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// e2e is the whole app, as newApp wires it, against a fake workspace.
type e2e struct {
	ws   *slacktest.Server
	app  *app
	logs *integrationtest.Logs
}

// startApp builds the config directly (as loadConfig would from an empty
// environment plus Slack's variables), runs the app and waits until it is
// connected. It stops at cleanup.
func startApp(t *testing.T, mutate func(*config)) *e2e {
	t.Helper()
	ws := slacktest.New(t)
	cfg := defaultConfig(t)
	cfg.Slack.AppToken = slackapp.Secret(ws.AppToken())
	cfg.Slack.BotToken = slackapp.Secret(ws.BotToken())
	cfg.Slack.APIURL = ws.APIURL()
	cfg.Store.DatabasePath = filepath.Join(t.TempDir(), "townhall.db")
	if mutate != nil {
		mutate(&cfg)
	}
	logs := &integrationtest.Logs{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := newApp(t.Context(), cfg, deps{Logger: log, Rand: bytes.NewReader(bytes.Repeat([]byte{0x5a}, 1<<16))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("app: %v", err)
		}
		if strings.Contains(logs.String(), ws.BotToken()) || strings.Contains(logs.String(), ws.AppToken()) {
			t.Error("a token appeared in the logs")
		}
	})
	wctx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	if err := a.rt.WaitConnected(wctx); err != nil {
		t.Fatal(err)
	}
	return &e2e{ws: ws, app: a, logs: logs}
}

// defaultConfig is the configuration an empty environment gives, built
// from the sections' envconfig defaults without reading the process
// environment.
func defaultConfig(t *testing.T) config {
	t.Helper()
	return config{
		Slack: slackapp.Config{APIURL: "https://slack.com/api/", HandlerTimeout: 30 * time.Second,
			ShutdownTimeout: 10 * time.Second, MaxConcurrentHandlers: 64},
		Ops:       opsConfig{LogFormat: "text", LogLevel: "info"},
		Store:     store.Config{DatabasePath: "townhall.db"},
		Scheduler: scheduler.Config{Timezone: "UTC"},
		Calls: calls.Config{Enabled: true, Provider: "jitsi", JitsiURL: "https://meet.jit.si", MaxTopic: 150,
			ZoomAPIURL: "https://api.zoom.us/v2", ZoomOAuthURL: "https://zoom.us/oauth/token", ZoomTimeout: 5 * time.Second},
	}
}

func (e *e2e) command(t *testing.T, user, channel, command, text string) []slacktest.Post {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	before := len(e.ws.Posts())
	env, err := e.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: command, Text: text, UserID: user, ChannelID: channel})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	return e.ws.Posts()[before:]
}

func TestCallPostsJoinMessage(t *testing.T) {
	t.Parallel()
	e := startApp(t, nil)
	posts := e.command(t, slacktest.MemberID, slacktest.RandomID, "/call", "budget review")
	if len(posts) != 1 {
		t.Fatalf("want one message, got %d", len(posts))
	}
	p := posts[0]
	if p.Method != "response_url" || p.ResponseType != "in_channel" || p.Channel != slacktest.RandomID {
		t.Errorf("want an in-channel answer in #random (the bot is not a member), got %+v", p)
	}
	if !strings.Contains(p.Text, "https://meet.jit.si/") {
		t.Errorf("text lacks the Jitsi link: %q", p.Text)
	}
	golden(t, "call_budget_review.json", p.Blocks)
	rendered := slacktest.Render(p)
	for _, want := range []string{"started a call: *budget review*", "[Join] https://meet.jit.si/"} {
		if !strings.Contains(rendered, want) {
			t.Errorf("rendered message lacks %q:\n%s", want, rendered)
		}
	}
}

func TestTownhallHelpListsRegisteredCommands(t *testing.T) {
	t.Parallel()
	e := startApp(t, nil)
	posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "help")
	if len(posts) != 1 || posts[0].ResponseType != "ephemeral" {
		t.Fatalf("want one ephemeral answer, got %+v", posts)
	}
	text := slacktest.Render(posts[0])
	for _, want := range []string{"/call [topic]", "/townhall help | status"} {
		if !strings.Contains(text, want) {
			t.Errorf("help lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "/events") {
		t.Errorf("help lists /events though calendar is off:\n%s", text)
	}
}

func TestTownhallHelpFollowsWhatIsEnabled(t *testing.T) {
	t.Parallel()
	e := startApp(t, func(c *config) { c.Calls.Enabled = false })
	posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "")
	if text := slacktest.Render(posts[0]); strings.Contains(text, "/call") {
		t.Errorf("help lists /call though calls is off:\n%s", text)
	}
	posts = e.command(t, slacktest.MemberID, slacktest.GeneralID, "/call", "standup")
	if len(posts) != 1 || posts[0].ResponseType != "ephemeral" || !strings.Contains(posts[0].Text, "not switched on") {
		t.Errorf("a disabled integration's command should say so, privately; got %+v", posts)
	}
}

func TestTownhallStatus(t *testing.T) {
	t.Parallel()
	e := startApp(t, nil)
	t.Run("refused to a member", func(t *testing.T) {
		posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "status")
		if len(posts) != 1 || posts[0].ResponseType != "ephemeral" || !strings.Contains(posts[0].Text, "Sorry") {
			t.Fatalf("want a polite ephemeral refusal, got %+v", posts)
		}
	})
	t.Run("shown to an admin", func(t *testing.T) {
		posts := e.command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
		if len(posts) != 1 || posts[0].ResponseType != "ephemeral" {
			t.Fatalf("want an ephemeral status, got %+v", posts)
		}
		text := slacktest.Render(posts[0])
		host, _ := os.Hostname()
		for _, want := range []string{"connected to Slack", "calls* — on", "calendar* — off", "TOWNHALL_CALENDAR_ENABLED",
			"replicas*", "`" + host + "` " + buildVersion() + " (this one)", "last heartbeat"} {
			if !strings.Contains(text, want) {
				t.Errorf("status lacks %q:\n%s", want, text)
			}
		}
		if n := strings.Count(text, "last heartbeat"); n != 1 {
			t.Errorf("status lists %d replicas, want 1 (one SQLite process):\n%s", n, text)
		}
	})
	t.Run("unknown subcommand gets usage", func(t *testing.T) {
		posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "frobnicate")
		if len(posts) != 1 || posts[0].ResponseType != "ephemeral" || !strings.Contains(posts[0].Text, "frobnicate") {
			t.Fatalf("got %+v", posts)
		}
	})
}

func TestMentionAnswersWithHelpInThread(t *testing.T) {
	t.Parallel()
	e := startApp(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	env, err := e.ws.Event(ctx, map[string]any{
		"type": "app_mention", "user": slacktest.MemberID, "channel": slacktest.GeneralID,
		"text": "<@" + e.app.rt.BotUserID() + "> what can you do?", "ts": "1764000000.000200",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	// Slack lost our ack and redelivers: still one answer.
	again, err := e.ws.Redeliver(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ws.WaitAck(ctx, again.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	posts := e.ws.Posts()
	if len(posts) != 1 {
		t.Fatalf("want one answer, got %d", len(posts))
	}
	if posts[0].ThreadTS != "1764000000.000200" || !strings.Contains(posts[0].Text, "/call") {
		t.Errorf("want the help in the mention's thread, got %+v", posts[0])
	}
}

func TestHTTPEndpoints(t *testing.T) {
	t.Parallel()
	e := startApp(t, nil)
	e.command(t, slacktest.MemberID, slacktest.GeneralID, "/townhall", "help")
	h := e.app.httpHandler()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200} {
		rec := httptestRecorder(h, path)
		if rec.Code != want {
			t.Errorf("%s = %d, want %d", path, rec.Code, want)
		}
		if path == "/metrics" && !strings.Contains(rec.Body.String(), "townhall_slack_acks_total") {
			t.Error("/metrics lacks townhall_slack_acks_total")
		}
	}
}

// golden compares got (JSON) with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got json.RawMessage) {
	t.Helper()
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("blocks are not JSON: %v", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <@U…> readable in the golden file
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	pretty := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, pretty, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty, want) {
		t.Errorf("blocks differ from %s (go test -update to accept):\n%s", path, pretty)
	}
}

// TestArchiveEndToEnd: with the archive on, a message said in a public
// channel is captured live and found by `townhall archive search`, and an
// export of it reads back.
func TestArchiveEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "townhall.db")
	e := startApp(t, func(c *config) {
		c.Store.DatabasePath = db
		c.Archive.Enabled = true
		c.Archive.CatchUpSchedule = "@every 30m"
		c.Archive.CatchUpLookback = 72 * time.Hour
		c.Archive.APIPace = time.Millisecond
		c.Archive.Title = "Community archive"
		c.Archive.BackupKeep = 7
	})
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	_, env, err := e.ws.PostUserMessage(ctx, slacktest.Message{Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "La réunion du comité est vendredi"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.app.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}

	t.Setenv("TOWNHALL_DATABASE_PATH", db)
	var out bytes.Buffer
	if err := run(ctx, []string{"archive", "search", "reunion", "--json"}, nil, &out, &out); err != nil {
		t.Fatalf("search: %v\n%s", err, out.String())
	}
	var hit searchLine
	if err := json.Unmarshal(out.Bytes(), &hit); err != nil {
		t.Fatalf("want one JSON line, got %q: %v", out.String(), err)
	}
	if hit.Channel != "general" || hit.User != slacktest.MemberID || !strings.Contains(hit.Text, "réunion") || !strings.Contains(hit.Permalink, "/c/general/p") {
		t.Errorf("got %+v", hit)
	}

	zipPath := filepath.Join(t.TempDir(), "export.zip")
	out.Reset()
	if err := run(ctx, []string{"archive", "export", zipPath}, nil, &out, &out); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 messages") {
		t.Errorf("export said %q", out.String())
	}
	// Importing the export into a fresh database gives the message back.
	t.Setenv("TOWNHALL_DATABASE_PATH", filepath.Join(t.TempDir(), "fresh.db"))
	out.Reset()
	if err := run(ctx, []string{"archive", "import", zipPath}, nil, &out, &out); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 new") {
		t.Errorf("import said %q", out.String())
	}
}

// slackControl matches what Slack reads between < and >: mentions, channel
// links, special mentions, dates and links. Anything else in angle
// brackets is a message bug (Slack swallows it), so help texts must write
// "&lt;id&gt;".
var slackControl = regexp.MustCompile(`^<(@[UW][A-Z0-9]+(\|[^>]*)?|#C[A-Z0-9]+(\|[^>]*)?|![a-z^][^>]*|https?://[^>]+|mailto:[^>]+)>`)

// TestHelpTextsAreWellFormedMrkdwn asks every enabled integration for its
// help and checks that nothing in it is an accidental Slack control
// sequence.
func TestHelpTextsAreWellFormedMrkdwn(t *testing.T) {
	t.Parallel()
	e := startApp(t, func(c *config) {
		ics := filepath.Join(t.TempDir(), "community.ics")
		if err := os.WriteFile(ics, examples.CommunityICS, 0o600); err != nil {
			t.Fatal(err)
		}
		c.Calendar.Sources = "ics:" + ics + "=" + slacktest.GeneralID
		c.Calendar.Enabled, c.Calendar.Reminders, c.Calendar.PollInterval = true, "24h,15m", 5*time.Minute
		c.Calendar.CatchUp, c.Calendar.Lookahead, c.Calendar.PageSize = 24*time.Hour, 720*time.Hour, 10
		c.Feeds.Enabled = true
		c.Feeds.XAPIURL, c.Feeds.XInterval, c.Feeds.XPageSize, c.Feeds.Interval = "https://api.x.com/2", 15*time.Minute, 100, 10*time.Minute
		c.Feeds.Backfill, c.Feeds.MaxItems, c.Feeds.MaxConcurrent = 1, 5, 8
		c.Feeds.FetchTimeout, c.Feeds.MaxFeedBytes = 20*time.Second, 5<<20
		c.Translate.Enabled, c.Translate.Provider, c.Translate.LibreURL = true, "libretranslate", "http://127.0.0.1:1"
		c.Translate.DefaultLanguage, c.Translate.ReactionsEnabled, c.Translate.MaxCharacters = "en", true, 5000
		c.Translate.CacheTTL, c.Translate.Timeout, c.Translate.ProgressAfter = time.Hour, 10*time.Second, 1500*time.Millisecond
		c.Translate.LibreMaxCharacters = 2000
	})
	for _, cmd := range [][2]string{{"/townhall", "help"}, {"/call", "help"}, {"/events", "help"}, {"/feed", "help"},
		{"/feed", "add"}, {"/feed", "remove"}, {"/translate", "help"}, {"/translate", ""}, {"/translate", "languages"}} {
		for _, p := range e.command(t, slacktest.AdminID, slacktest.GeneralID, cmd[0], cmd[1]) {
			for _, text := range append([]string{p.Text}, blockStrings(t, p.Blocks)...) {
				for i := strings.IndexByte(text, '<'); i >= 0; i = next(text, i) {
					if !slackControl.MatchString(text[i:]) {
						t.Errorf("%s %s: stray %q in %q", cmd[0], cmd[1], text[i:min(len(text), i+20)], text)
						break
					}
				}
			}
		}
	}
}

// blockStrings returns every string in a Block Kit JSON document.
func blockStrings(t *testing.T, blocks json.RawMessage) []string {
	t.Helper()
	if len(blocks) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(blocks, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				if k != "url" && k != "image_url" && k != "value" {
					walk(e)
				}
			}
		}
	}
	walk(v)
	return out
}

func next(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '<')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// TestAppSurvivesReconnectsAndRateLimits: the whole app, as newApp wires
// it, reconnects after Slack's refresh disconnect and after an abrupt drop,
// loses no /call sent meanwhile, answers none twice, and waits out a 429.
func TestAppSurvivesReconnectsAndRateLimits(t *testing.T) {
	t.Parallel()
	e := startApp(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	breaks := []func(){
		func() { e.ws.Disconnect(ctx, "refresh_requested") },
		e.ws.DropConnections,
	}
	for i, brk := range breaks {
		brk()
		// Sent while the app is (re)connecting: the workspace holds it
		// until a connection is open, as Slack does.
		posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/call", fmt.Sprint("after break ", i))
		if len(posts) != 1 || !strings.Contains(posts[0].Text, fmt.Sprint("after break ", i)) {
			t.Fatalf("break %d: want exactly one answer, got %+v", i, posts)
		}
		if _, err := e.app.rt.WaitConnection(ctx, uint64(i+1)); err != nil {
			t.Fatalf("break %d: no new connection: %v", i, err)
		}
	}

	e.ws.FailNext("response_url", 429, time.Second)
	start := time.Now()
	posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/call", "rate limited")
	if len(posts) != 1 {
		t.Fatalf("want exactly one post after the wait, got %d", len(posts))
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("answered after %s, before Retry-After", waited)
	}
	if n := len(e.ws.Posts()); n != 3 {
		t.Errorf("want 3 answers in all, got %d", n)
	}
}
