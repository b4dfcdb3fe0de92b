package calls_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations/calls"
	"github.com/townhall/townhall/integrations/calls/zoomtest"
	"github.com/townhall/townhall/slackapp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// recorder is a slackapp.Responder that keeps what the handler sent.
type recorder struct {
	mu         sync.Mutex
	replyErr   error
	replies    []slackapp.Message
	ephemerals []slackapp.Message
}

func (r *recorder) Reply(_ context.Context, m slackapp.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replyErr != nil {
		return r.replyErr
	}
	r.replies = append(r.replies, m)
	return nil
}

func (r *recorder) Ephemeral(_ context.Context, m slackapp.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ephemerals = append(r.ephemerals, m)
	return nil
}

// sent returns the replies and ephemeral messages so far.
func (r *recorder) sent() (replies, ephemerals []slackapp.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]slackapp.Message(nil), r.replies...), append([]slackapp.Message(nil), r.ephemerals...)
}

// countingReader is a deterministic Rand: 0, 1, 2, ...
type countingReader struct {
	mu sync.Mutex
	n  byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

type testBundle struct {
	integration *calls.Integration
	logs        *bytes.Buffer // JSON log lines
}

// setup builds the integration with a deterministic Rand and a logger
// writing to a buffer; modify adjusts the default config.
func setup(t *testing.T, modify func(*calls.Config), deps calls.Deps) testBundle {
	t.Helper()
	cfg := defaults(t)
	if modify != nil {
		modify(&cfg)
	}
	logs := &syncBuffer{}
	if deps.Rand == nil {
		deps.Rand = &countingReader{}
	}
	deps.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if deps.Now == nil {
		deps.Now = func() time.Time { return time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC) }
	}
	i, err := calls.New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return testBundle{integration: i, logs: &logs.buf}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// withZoom points the config at a zoomtest fake.
func withZoom(fake *zoomtest.Server) func(*calls.Config) {
	return func(c *calls.Config) {
		zc := fake.Config()
		c.Provider = calls.ProviderZoom
		c.ZoomAccountID, c.ZoomClientID, c.ZoomClientSecret = zc.AccountID, zc.ClientID, zc.ClientSecret
		c.ZoomAPIURL, c.ZoomOAuthURL = zc.APIURL, zc.OAuthURL
	}
}

// run sends "/call text" from user U0123ABCD and returns what was sent.
func (b testBundle) run(t *testing.T, text string, rec *recorder) error {
	t.Helper()
	h := b.integration.Handlers().Commands[0].Handler
	req := &slackapp.Request{
		Kind:      slackapp.KindCommand,
		UserID:    "U0123ABCD",
		ChannelID: "C0123ABCD",
		Command: &slack.SlashCommand{
			Command: "/call", Text: text, UserID: "U0123ABCD", ChannelID: "C0123ABCD",
			ResponseURL: "https://hooks.slack.invalid/commands/1",
		},
		Responder: rec,
	}
	return h.Handle(t.Context(), req)
}

// messageJSON renders a message as Slack receives it, indented and with
// <, > and & left readable.
func messageJSON(t *testing.T, m slackapp.Message) []byte {
	t.Helper()
	raw, err := json.Marshal(struct {
		Text   string       `json:"text"`
		Blocks slack.Blocks `json:"blocks"`
	}{m.Text, slack.Blocks{BlockSet: m.Blocks}})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return buf.Bytes()
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update if the change is intended.\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestCallMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		text   string
		modify func(*calls.Config)
	}{
		{name: "jitsi_topic", text: "Budget review"},
		{name: "jitsi_no_topic", text: "   "},
		{name: "jitsi_self_hosted", text: "Révision du budget", modify: func(c *calls.Config) { c.JitsiURL = "https://jitsi.example.org/meet/" }},
		{name: "jitsi_non_latin", text: "مراجعة الميزانية"},
		{name: "escaped_topic", text: "<!channel> <https://evil|x> & co"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.modify, calls.Deps{})
			rec := &recorder{}
			if err := b.run(t, tt.text, rec); err != nil {
				t.Fatalf("handle: %v", err)
			}
			replies, ephemerals := rec.sent()
			if len(replies) != 1 || len(ephemerals) != 0 {
				t.Fatalf("sent %d replies and %d ephemerals, want 1 reply", len(replies), len(ephemerals))
			}
			checkGolden(t, tt.name, messageJSON(t, replies[0]))
		})
	}
}

func TestZoom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		text         string // default "Quarterly planning"
		inject       func(*zoomtest.Server)
		wantFallback bool
	}{
		{name: "zoom"},
		{name: "zoom_no_topic", text: " "},
		{name: "zoom_fallback_5xx", inject: func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 1, http.StatusServiceUnavailable) }, wantFallback: true},
		{name: "zoom_fallback_oauth", inject: func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointToken, 1, http.StatusBadRequest) }, wantFallback: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := zoomtest.New(t)
			if tt.inject != nil {
				tt.inject(fake)
			}
			b := setup(t, withZoom(fake), calls.Deps{HTTPClient: fake.Client()})
			text, wantTopic := tt.text, tt.text
			if text == "" {
				text, wantTopic = "Quarterly planning", "Quarterly planning"
			}
			if strings.TrimSpace(wantTopic) == "" {
				wantTopic = "Townhall call"
			}
			rec := &recorder{}
			if err := b.run(t, text, rec); err != nil {
				t.Fatalf("handle: %v", err)
			}
			replies, _ := rec.sent()
			if len(replies) != 1 {
				t.Fatalf("sent %d replies, want 1", len(replies))
			}
			got := messageJSON(t, replies[0])
			checkGolden(t, tt.name, got)
			says := bytes.Contains(got, []byte("Zoom was unavailable, so this is a Jitsi room."))
			if says != tt.wantFallback {
				t.Errorf("message says Zoom was unavailable: %v, want %v", says, tt.wantFallback)
			}
			warned := strings.Contains(b.logs.String(), "zoom unavailable")
			if warned != tt.wantFallback {
				t.Errorf("logged the fallback: %v, want %v\nlogs: %s", warned, tt.wantFallback, b.logs)
			}
			if !tt.wantFallback {
				if m := fake.Meetings(); len(m) != 1 || m[0].Topic != wantTopic {
					t.Errorf("meetings created = %+v, want one about %q", m, wantTopic)
				}
			}
		})
	}
}

// TestZoomTimeoutFallsBack uses a Zoom that never answers: /call must not
// wait for it longer than TOWNHALL_CALLS_ZOOM_TIMEOUT.
func TestZoomTimeoutFallsBack(t *testing.T) {
	t.Parallel()
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(stuck.Close)
	b := setup(t, func(c *calls.Config) {
		c.Provider = calls.ProviderZoom
		c.ZoomAccountID, c.ZoomClientID, c.ZoomClientSecret = "a", "b", "c"
		c.ZoomAPIURL, c.ZoomOAuthURL = stuck.URL+"/v2", stuck.URL+"/oauth/token"
		c.ZoomTimeout = 50 * time.Millisecond
	}, calls.Deps{HTTPClient: stuck.Client()})
	rec := &recorder{}
	if err := b.run(t, "standup", rec); err != nil {
		t.Fatalf("handle: %v", err)
	}
	replies, _ := rec.sent()
	if len(replies) != 1 || !strings.Contains(replies[0].Text, "https://meet.jit.si/standup-") {
		t.Fatalf("replies = %+v, want a Jitsi room", replies)
	}
}

// TestNoSecretInLogsOrErrors runs every Zoom failure through the handler
// and checks logs, errors and messages for the secret and every token.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		modify  func(*calls.Config)
		inject  func(*zoomtest.Server) // before the first /call
		between func(*zoomtest.Server) // between the first and second
	}{
		{name: "wrong secret", modify: func(c *calls.Config) { c.ZoomClientSecret += "-wrong" }},
		{name: "token refused twice", inject: func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 2, http.StatusUnauthorized) }},
		{name: "revoked token", between: func(s *zoomtest.Server) { s.RevokeTokens() }},
		{name: "zoom down", between: func(s *zoomtest.Server) { s.FailNext(zoomtest.EndpointMeetings, 1, http.StatusInternalServerError) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := zoomtest.New(t)
			if tt.inject != nil {
				tt.inject(fake)
			}
			var cfg calls.Config
			b := setup(t, func(c *calls.Config) {
				withZoom(fake)(c)
				if tt.modify != nil {
					tt.modify(c)
				}
				cfg = *c
			}, calls.Deps{HTTPClient: fake.Client()})
			rec := &recorder{}
			err := b.run(t, "planning", rec)
			if tt.between != nil {
				tt.between(fake)
			}
			// A second call exercises the cached and refreshed paths.
			err = errors.Join(err, b.run(t, "planning again", rec))
			replyErr := errors.New("response_url expired")
			rec.mu.Lock()
			rec.replyErr = replyErr
			rec.mu.Unlock()
			if perr := b.run(t, "third", rec); !errors.Is(perr, replyErr) {
				t.Errorf("handle with a failing Reply: %v, want it to wrap %v", perr, replyErr)
			} else {
				err = errors.Join(err, perr)
			}
			slog.New(slog.NewJSONHandler(b.logs, nil)).Info("effective config", "config", cfg)

			var everything strings.Builder
			everything.WriteString(b.logs.String())
			if err != nil {
				everything.WriteString(err.Error())
			}
			replies, ephemerals := rec.sent()
			for _, m := range append(replies, ephemerals...) {
				everything.Write(messageJSON(t, m))
			}
			for _, s := range append(fake.IssuedTokens(), fake.ClientSecret.Reveal(), cfg.ZoomClientSecret.Reveal()) {
				if strings.Contains(everything.String(), s) {
					t.Errorf("a log line, error or message contains the secret or a token %q:\n%s", s[:4]+"…", everything.String())
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"help", "HELP", "-h", "--help", " ? "} {
		t.Run(text, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil, calls.Deps{})
			rec := &recorder{}
			if err := b.run(t, text, rec); err != nil {
				t.Fatalf("handle: %v", err)
			}
			replies, ephemerals := rec.sent()
			if len(replies) != 0 || len(ephemerals) != 1 {
				t.Fatalf("sent %d replies and %d ephemerals, want 1 ephemeral", len(replies), len(ephemerals))
			}
			for _, want := range []string{"/call [topic]", "up to 150 characters", "Jitsi Meet"} {
				if !strings.Contains(ephemerals[0].Text, want) {
					t.Errorf("help %q does not mention %q", ephemerals[0].Text, want)
				}
			}
		})
	}
	t.Run("a topic that starts with help is a topic", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil, calls.Deps{})
		rec := &recorder{}
		if err := b.run(t, "help desk sync", rec); err != nil {
			t.Fatalf("handle: %v", err)
		}
		if replies, _ := rec.sent(); len(replies) != 1 {
			t.Errorf("sent %d replies, want the call", len(replies))
		}
	})
}

func TestTopicLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		text     string
		wantPost bool
		wantMsg  string
	}{
		{name: "at the limit", text: strings.Repeat("a", 20), wantPost: true},
		{name: "at the limit in characters, not bytes", text: strings.Repeat("é", 20), wantPost: true},
		{name: "entities count as one character", text: strings.Repeat("&amp;", 20), wantPost: true},
		{name: "over the limit", text: strings.Repeat("a", 21), wantMsg: "That topic is 21 characters long; the limit is 20."},
		{name: "over in characters", text: strings.Repeat("日本", 15), wantMsg: "That topic is 30 characters long; the limit is 20."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *calls.Config) { c.MaxTopic = 20 }, calls.Deps{})
			rec := &recorder{}
			if err := b.run(t, tt.text, rec); err != nil {
				t.Fatalf("handle: %v", err)
			}
			replies, ephemerals := rec.sent()
			if tt.wantPost {
				if len(replies) != 1 || len(ephemerals) != 0 {
					t.Errorf("sent %d replies and %d ephemerals, want the call", len(replies), len(ephemerals))
				}
				return
			}
			if len(replies) != 0 || len(ephemerals) != 1 {
				t.Fatalf("sent %d replies and %d ephemerals, want 1 ephemeral", len(replies), len(ephemerals))
			}
			if !strings.Contains(ephemerals[0].Text, tt.wantMsg) {
				t.Errorf("refusal %q does not say %q", ephemerals[0].Text, tt.wantMsg)
			}
		})
	}
}

// TestEscaping checks that a topic cannot ping, mention or link, whether
// Slack sent its characters raw, as entities, or as its own markup.
func TestEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		text        string
		wantSection string
	}{
		{
			name:        "raw markup",
			text:        "<!channel> <https://evil|x> & co",
			wantSection: "📞 <@U0123ABCD> started a call: *@\u2060channel x &amp; co*",
		},
		{
			name:        "typed by a user, escaped by Slack",
			text:        "&lt;!channel&gt; &lt;https://evil|x&gt; &amp; co",
			wantSection: "📞 <@U0123ABCD> started a call: *&lt;!channel&gt; &lt;https://evil|x&gt; &amp; co*",
		},
		{
			name:        "mentions escaped by Slack",
			text:        "sync with <@U999|bob> in <#C42|general> <!here> <!subteam^S1|@eng>",
			wantSection: "📞 <@U0123ABCD> started a call: *sync with @\u2060bob in #general @\u2060here @\u2060eng*",
		},
		{
			name:        "bare broadcast words",
			text:        "@channel @here @everyone",
			wantSection: "📞 <@U0123ABCD> started a call: *@\u2060channel @\u2060here @\u2060everyone*",
		},
		{
			name:        "newlines, controls and bidi overrides",
			text:        "a\n\nb\t\u0007c \u202eevil\u202c",
			wantSection: "📞 <@U0123ABCD> started a call: *a b c evil*",
		},
	}
	forbidden := regexp.MustCompile(`<!|<https?://evil|<mailto:|<#|<@U999`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil, calls.Deps{})
			rec := &recorder{}
			if err := b.run(t, tt.text, rec); err != nil {
				t.Fatalf("handle: %v", err)
			}
			replies, _ := rec.sent()
			if len(replies) != 1 {
				t.Fatalf("sent %d replies, want 1", len(replies))
			}
			m := replies[0]
			section := m.Blocks[0].(*slack.SectionBlock)
			if section.Text.Text != tt.wantSection {
				t.Errorf("section = %q\nwant      %q", section.Text.Text, tt.wantSection)
			}
			if !section.Text.Verbatim {
				t.Error("section is not verbatim: Slack would parse words of the topic")
			}
			for _, s := range []string{m.Text, section.Text.Text} {
				if loc := forbidden.FindString(s); loc != "" {
					t.Errorf("%q contains markup %q from the topic", s, loc)
				}
			}
		})
	}
}

func TestReplyFailureSendsLinkPrivately(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, calls.Deps{})
	rec := &recorder{replyErr: errors.New("channel_not_found")}
	err := b.run(t, "retro", rec)
	if err == nil || !strings.Contains(err.Error(), "channel_not_found") {
		t.Fatalf("handle: %v, want the Reply error", err)
	}
	_, ephemerals := rec.sent()
	if len(ephemerals) != 1 || !strings.Contains(ephemerals[0].Text, "https://meet.jit.si/retro-") {
		t.Errorf("ephemerals = %+v, want the link sent privately", ephemerals)
	}
}

func TestRandomFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, calls.Deps{Rand: strings.NewReader("short")})
	rec := &recorder{}
	if err := b.run(t, "x", rec); err == nil {
		t.Fatal("handle succeeded with a failing Rand")
	}
	if replies, _ := rec.sent(); len(replies) != 0 {
		t.Errorf("posted %d messages with a failing Rand", len(replies))
	}
}

// TestRoomsAreUnguessable checks the shape of real rooms and that they differ.
func TestRoomsAreUnguessable(t *testing.T) {
	t.Parallel()
	i, err := calls.New(defaults(t), calls.Deps{}) // crypto/rand
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	room := regexp.MustCompile(`^https://meet\.jit\.si/weekly-sync-([a-z2-7]{16})$`)
	seen := map[string]bool{}
	for range 50 {
		rec := &recorder{}
		req := &slackapp.Request{UserID: "U1", Command: &slack.SlashCommand{Text: "Weekly sync"}, Responder: rec}
		if err := i.Handlers().Commands[0].Handler.Handle(t.Context(), req); err != nil {
			t.Fatalf("handle: %v", err)
		}
		replies, _ := rec.sent()
		url := replies[0].Blocks[1].(*slack.ActionBlock).Elements.ElementSet[0].(*slack.ButtonBlockElement).URL
		m := room.FindStringSubmatch(url)
		if m == nil {
			t.Fatalf("room %q does not match %s", url, room)
		}
		if seen[m[1]] {
			t.Fatalf("room %q repeated", url)
		}
		seen[m[1]] = true
		if utf8.RuneCountInString(m[1])*5 < 80 {
			t.Fatalf("room %q has fewer than 80 random bits", url)
		}
	}
}

// BenchmarkCallJitsi measures a /call with a topic on the default provider,
// from command text to the message handed to the Responder.
func BenchmarkCallJitsi(b *testing.B) {
	i, err := calls.New(calls.Config{
		Enabled: true, Provider: "jitsi", JitsiURL: "https://meet.jit.si", MaxTopic: 150,
		ZoomAPIURL: "https://api.zoom.us/v2", ZoomOAuthURL: "https://zoom.us/oauth/token",
	}, calls.Deps{})
	if err != nil {
		b.Fatal(err)
	}
	h := i.Handlers().Commands[0].Handler
	rec := &recorder{}
	req := &slackapp.Request{
		UserID:    "U0123ABCD",
		Command:   &slack.SlashCommand{Text: "Révision du budget &amp; <@U999|bob> Q3"},
		Responder: rec,
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := h.Handle(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		rec.replies = rec.replies[:0]
	}
}
