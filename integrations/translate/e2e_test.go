package translate_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/integrations/translate"
	"github.com/townhall/townhall/integrations/translate/deepltest"
	"github.com/townhall/townhall/integrations/translate/googletest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// testConfig is the configuration envconfig gives by default, enabled.
func testConfig() translate.Config {
	return translate.Config{
		Enabled: true, Provider: translate.ProviderDeepL, DefaultLanguage: "en", ReactionsEnabled: true,
		MaxCharacters: 5000, CacheTTL: 720 * time.Hour, Timeout: 10 * time.Second, ProgressAfter: time.Minute,
		LibreMaxCharacters: 2000, ChannelMinWords: 3,
	}
}

type bundle struct {
	env   *integrationtest.Env
	deepl *deepltest.Server
	front *deleteFront // chat.delete, in front of env.WS
	clock *integrationtest.Clock
	in    *translate.Integration
}

// testStart is when the tests' clock starts.
var testStart = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// start runs the integration end to end against slacktest and a DeepL fake.
func start(t *testing.T, modify func(*translate.Config)) bundle {
	t.Helper()
	fake := deepltest.New(t)
	cfg := testConfig()
	cfg.DeepLKey, cfg.DeepLURL = fake.Key, fake.URL
	if modify != nil {
		modify(&cfg)
	}
	b := startWith(t, cfg, integrationtest.Options{})
	b.deepl = fake
	return b
}

// startWith runs the integration with cfg, wired as cmd/townhall wires it.
func startWith(t *testing.T, cfg translate.Config, o integrationtest.Options) bundle {
	t.Helper()
	b := bundle{clock: integrationtest.NewClock(testStart)}
	if o.Now == nil {
		o.Now = b.clock.Now
	}
	b.env = integrationtest.Start(t, o, func(e *integrationtest.Env) (integrations.Integration, error) {
		b.front = newDeleteFront(t, e.WS)
		in, err := translate.New(cfg, translate.Deps{
			Poster: e.Runtime.Poster(), API: b.front.API(), IsStaff: e.Runtime.IsStaff, Now: e.Now,
			Claims: e.Store, Cache: e.Store, Settings: e.Store,
		})
		b.in = in
		return in, err
	})
	return b
}

func only(t *testing.T, posts []slacktest.Post) slacktest.Post {
	t.Helper()
	if len(posts) != 1 {
		t.Fatalf("got %d posts, want 1: %v", len(posts), posts)
	}
	return posts[0]
}

// shows reports whether the post's text or blocks contain s.
func shows(p slacktest.Post, s string) bool {
	return strings.Contains(p.Text, s) || strings.Contains(string(p.Blocks), s)
}

func TestCommandAndPostButton(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	p := only(t, b.env.Command(t, slacktest.MemberID, slacktest.GeneralID, "/translate", "français Hello everyone"))
	if !p.Ephemeral() || !shows(p, "Bonjour à tous") || !shows(p, "from English into French") || !shows(p, "Post to channel") {
		t.Fatalf("answer = %s", p)
	}
	posted := only(t, b.env.Action(t, slacktest.BlockAction{ActionID: translate.PostActionID, ChannelID: slacktest.GeneralID}))
	if posted.Method != slacktest.MethodPostMessage || posted.Channel != slacktest.GeneralID ||
		!shows(posted, "<@"+slacktest.MemberID+"> (translated from English)") || !shows(posted, "Bonjour à tous") {
		t.Errorf("posted = %s", posted)
	}
	again := only(t, b.env.Action(t, slacktest.BlockAction{ActionID: translate.PostActionID, ChannelID: slacktest.GeneralID, MessageTS: p.TS}))
	if !again.Ephemeral() || !shows(again, "already posted") {
		t.Errorf("second click = %s", again)
	}
	// The same text again is served from the cache: DeepL is asked once.
	b.env.Command(t, slacktest.AdminID, slacktest.GeneralID, "/translate", "fr Hello everyone")
	if n := len(b.deepl.Requests()); n != 1 {
		t.Errorf("DeepL was asked %d times, want 1", n)
	}
}

func TestPreferences(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	if p := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", "set español")); !shows(p, "Spanish (español)") {
		t.Errorf("set = %s", p)
	}
	if p := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", "Hello everyone")); !shows(p, "Hola a todos") {
		t.Errorf("translation into the preferred language = %s", p)
	}
	if p := only(t, b.env.Command(t, slacktest.AdminID, "", "/translate", "Hola a todos")); !shows(p, "Hello everyone") {
		t.Errorf("another user's default = %s", p)
	}
	if p := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", "set klingon")); !shows(p, "I don't know the language “klingon”") || !shows(p, "`zh-TW`") {
		t.Errorf("unknown language = %s", p)
	}
	if p := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", "languages")); !shows(p, "`ar` Arabic (العربية)") || !shows(p, "`zh` Chinese (中文)") {
		t.Errorf("languages = %s", p)
	}
}

func TestShortcutInThread(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	parent := b.env.WS.AddMessage(slacktest.Message{Text: "Agenda"})
	reply := b.env.WS.AddMessage(slacktest.Message{Text: "Всем привет <@U0ADMIN> :wave:", ThreadTS: parent.TS, User: slacktest.AdminID})
	p := only(t, b.env.Shortcut(t, slacktest.MessageShortcut{CallbackID: translate.ShortcutCallbackID, MessageTS: reply.TS}))
	if !p.Ephemeral() || p.ThreadTS != parent.TS || !shows(p, "Hello everyone <@U0ADMIN> :wave:") || !shows(p, "Post in thread") {
		t.Fatalf("answer = %s (thread %q)", p, p.ThreadTS)
	}
	posted := only(t, b.env.Action(t, slacktest.BlockAction{ActionID: translate.PostActionID}))
	if posted.ThreadTS != parent.TS || !shows(posted, "<@U0ADMIN> (translated from Russian into English, shared by <@U0MEMBER>)") {
		t.Errorf("posted = %s (thread %q)", posted, posted.ThreadTS)
	}
}

func reaction(user, name, channel, ts string) map[string]any {
	return map[string]any{
		"type": "reaction_added", "user": user, "reaction": name, "item_user": slacktest.MemberID,
		"item": map[string]any{"type": "message", "channel": channel, "ts": ts},
	}
}

func TestFlagReactionPostsOnce(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	m := b.env.WS.AddMessage(slacktest.Message{Text: "Hello everyone, see <https://example.org/agenda|the agenda> :tada:"})
	first := only(t, b.env.Event(t, reaction(slacktest.MemberID, "fr", slacktest.GeneralID, m.TS)))
	if first.Method != slacktest.MethodPostMessage || first.ThreadTS != m.TS ||
		!shows(first, "<https://example.org/agenda|[fr] the agenda> :tada:") || !shows(first, "for :fr:") {
		t.Fatalf("reply = %s", first)
	}
	if posts := b.env.Event(t, reaction(slacktest.AdminID, "flag-fr", slacktest.GeneralID, m.TS)); len(posts) != 0 {
		t.Errorf("a second French flag posted again: %v", posts)
	}
	if posts := b.env.Event(t, reaction(slacktest.AdminID, "thumbsup", slacktest.GeneralID, m.TS)); len(posts) != 0 {
		t.Errorf("a non-flag reaction posted: %v", posts)
	}
	// Another language is another reply.
	zh := only(t, b.env.Event(t, reaction(slacktest.AdminID, "cn", slacktest.GeneralID, m.TS)))
	if zh.ThreadTS != m.TS || !shows(zh, "[zh-hans]") {
		t.Errorf("Chinese reply = %s", zh)
	}
	if n := len(b.deepl.Requests()); n != 2 {
		t.Errorf("DeepL was asked %d times, want 2", n)
	}
}

func TestFlagReactionOnThreadReply(t *testing.T) {
	t.Parallel()
	b := start(t, nil)
	parent := b.env.WS.AddMessage(slacktest.Message{Text: "Agenda"})
	reply := b.env.WS.AddMessage(slacktest.Message{Text: "Thank you", ThreadTS: parent.TS})
	p := only(t, b.env.Event(t, reaction(slacktest.AdminID, "flag-sa", slacktest.GeneralID, reply.TS)))
	if p.ThreadTS != parent.TS || !shows(p, "شكرا لك") {
		t.Errorf("reply = %s (thread %q)", p, p.ThreadTS)
	}
}

func TestReactionsDisabled(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *translate.Config) { c.ReactionsEnabled = false })
	m := b.env.WS.AddMessage(slacktest.Message{Text: "Hello everyone"})
	if posts := b.env.Event(t, reaction(slacktest.MemberID, "fr", slacktest.GeneralID, m.TS)); len(posts) != 0 {
		t.Errorf("posted with reactions off: %v", posts)
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		text   string
		modify func(*translate.Config)
		fault  func(*deepltest.Server)
		want   string
	}{
		{name: "empty", text: "", want: "translates text for you alone"},
		{name: "only a language", text: "fr", want: "What should I translate into French?"},
		{name: "too long", text: "fr " + strings.Repeat("a", 5001), want: "That text is 5001 characters long; I can translate up to 5000"},
		{name: "no words", text: "fr :tada: <@U0ADMIN>", want: "no words to translate"},
		{name: "unsupported pair", text: "th Hello", want: "DeepL can't translate from another language into Thai"},
		{name: "bad key", text: "fr Hello", modify: func(c *translate.Config) { c.DeepLKey = "wrong" }, want: "refused the app's credentials"},
		{name: "quota", text: "fr Hello", fault: func(s *deepltest.Server) { s.FailNext(456, "Quota Exceeded") }, want: "used up its DeepL allowance"},
		{name: "rate limited", text: "fr Hello", fault: func(s *deepltest.Server) { s.FailNext(http.StatusTooManyRequests, "Too many requests") }, want: "asked us to slow down"},
		{name: "server error", text: "fr Hello", fault: func(s *deepltest.Server) { s.FailNext(http.StatusInternalServerError, "Internal error") }, want: "DeepL is having trouble"},
		{name: "timeout", text: "fr Hello", modify: func(c *translate.Config) { c.Timeout = 50 * time.Millisecond },
			fault: func(s *deepltest.Server) { s.Hold() }, want: "DeepL didn't answer within 50ms"},
		{name: "already in the language", text: "en Hello there", want: "That's already in English."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := start(t, tt.modify)
			if tt.fault != nil {
				tt.fault(b.deepl)
			}
			p := only(t, b.env.Command(t, slacktest.MemberID, "", "/translate", tt.text))
			if !p.Ephemeral() || !shows(p, tt.want) {
				t.Errorf("answer = %s\nwant it to say %q", p, tt.want)
			}
			if strings.Contains(b.env.Logs.String(), b.deepl.Key.Reveal()) {
				t.Error("the DeepL key is in the logs")
			}
		})
	}
}

func TestSlowProviderSaysTranslating(t *testing.T) {
	t.Parallel()
	b := start(t, func(c *translate.Config) { c.ProgressAfter = time.Millisecond })
	b.deepl.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := len(b.env.WS.Posts())
	if _, err := b.env.WS.SlashCommand(ctx, slacktest.SlashCommand{Command: "/translate", Text: "es Hello everyone"}); err != nil {
		t.Fatal(err)
	}
	posts, err := b.env.WS.WaitPosts(ctx, before+1)
	if err != nil {
		t.Fatal(err)
	}
	if p := posts[before]; !p.Ephemeral() || p.Text != "Translating into Spanish…" {
		t.Errorf("first answer = %s", p)
	}
	b.deepl.Release()
	posts, err = b.env.WS.WaitPosts(ctx, before+2)
	if err != nil {
		t.Fatal(err)
	}
	if p := posts[before+1]; !shows(p, "Hola a todos") {
		t.Errorf("second answer = %s", p)
	}
}

func TestGoogleEndToEnd(t *testing.T) {
	t.Parallel()
	fake := googletest.New(t)
	cfg := testConfig()
	cfg.Provider, cfg.GoogleAPIKey, cfg.GoogleEndpoint = translate.ProviderGoogle, fake.APIKey, fake.Endpoint()
	env := startWith(t, cfg, integrationtest.Options{}).env
	p := only(t, env.Command(t, slacktest.MemberID, "", "/translate", "中文 Hello everyone <@U0ADMIN>"))
	if !shows(p, "大家好") || !shows(p, "<@U0ADMIN>") || !shows(p, "by Google Translate") {
		t.Errorf("answer = %s", p)
	}
}
