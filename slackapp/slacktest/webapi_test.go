package slacktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp/slacktest"
)

func TestAuthTest(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	got, err := b.api.AuthTestContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://townhall-test.slack.com/" || got.Team != "townhall-test" || got.User != "townhall" ||
		got.TeamID != slacktest.DefaultTeamID || got.UserID != slacktest.DefaultBotUserID || got.BotID != slacktest.DefaultBotID {
		t.Errorf("auth.test = %+v", got)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	srv := slacktest.New(t)
	if !strings.HasPrefix(srv.AppToken(), "xapp-1-") || !strings.HasPrefix(srv.BotToken(), "xoxb-") {
		t.Fatalf("tokens %q, %q: want xapp-1-… and xoxb-…", srv.AppToken(), srv.BotToken())
	}
	client := func(bot, app string) *slack.Client {
		return slack.New(bot, slack.OptionAPIURL(srv.APIURL()), slack.OptionAppLevelToken(app))
	}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
		want string
	}{
		{"wrong bot token", func(ctx context.Context) error {
			_, err := client("xoxb-nope", srv.AppToken()).AuthTestContext(ctx)
			return err
		}, "invalid_auth"},
		{"no bot token", func(ctx context.Context) error {
			_, _, err := client("", srv.AppToken()).PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText("hi", false))
			return err
		}, "not_authed"},
		{"app token for chat.postMessage", func(ctx context.Context) error {
			_, _, err := client(srv.AppToken(), srv.AppToken()).PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText("hi", false))
			return err
		}, "not_allowed_token_type"},
		{"bot token for apps.connections.open", func(ctx context.Context) error {
			_, _, err := client(srv.BotToken(), srv.BotToken()).StartSocketModeContext(ctx)
			return err
		}, "not_allowed_token_type"},
		{"wrong app token", func(ctx context.Context) error {
			_, _, err := client(srv.BotToken(), "xapp-1-nope").StartSocketModeContext(ctx)
			return err
		}, "invalid_auth"},
		{"wrong token in header for views.open", func(ctx context.Context) error {
			_, err := client("xoxb-nope", srv.AppToken()).OpenViewContext(ctx, "1.2.3", slack.ModalViewRequest{Type: slack.VTModal})
			return err
		}, "invalid_auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(t.Context())
			var serr slack.SlackErrorResponse
			if !errors.As(err, &serr) || serr.Err != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
	if got := srv.Calls("chat.postMessage"); got != 2 {
		t.Errorf("Calls(chat.postMessage) = %d, want 2 (failed calls count)", got)
	}
	if posts := srv.Posts(); len(posts) != 0 {
		t.Errorf("posts = %v, want none", posts)
	}
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	ctx := waitCtx(t)
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*Call* started", false, false), nil, nil),
	}
	ch, ts1, err := b.api.PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText("Call started", false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}
	_, ts2, err := b.api.PostMessageContext(ctx, "#general", slack.MsgOptionText("reply", false), slack.MsgOptionTS(ts1))
	if err != nil {
		t.Fatal(err)
	}
	if ch != slacktest.GeneralID || ts1 == "" || ts2 <= ts1 {
		t.Errorf("channel %q, ts %q then %q: want C0GENERAL and increasing ts", ch, ts1, ts2)
	}

	posts, err := b.srv.WaitPosts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := posts[0]
	if p.Method != slacktest.MethodPostMessage || p.Channel != slacktest.GeneralID || p.Text != "Call started" || p.TS != ts1 || p.ThreadTS != "" {
		t.Errorf("first post = %+v", p)
	}
	got, err := p.BlockKit()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.BlockSet) != 1 || got.BlockSet[0].(*slack.SectionBlock).Text.Text != "*Call* started" {
		t.Errorf("blocks = %s", p.Blocks)
	}
	if posts[1].ThreadTS != ts1 || posts[1].TS != ts2 {
		t.Errorf("second post = %+v, want in thread %s", posts[1], ts1)
	}
}

// TestJSONBody posts the way a Slack-compatible client other than slack-go
// may: a JSON body, the token in the Authorization header, blocks as an array.
func TestJSONBody(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	body := `{"channel":"C0GENERAL","text":"hello","blocks":[{"type":"divider"}]}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.srv.APIURL()+"chat.postMessage", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+b.srv.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		OK      bool   `json:"ok"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
		Message struct {
			Text   string            `json:"text"`
			BotID  string            `json:"bot_id"`
			Blocks []json.RawMessage `json:"blocks"`
		} `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if !got.OK || got.Channel != slacktest.GeneralID || got.TS == "" || got.Message.Text != "hello" || got.Message.BotID != slacktest.DefaultBotID || len(got.Message.Blocks) != 1 {
		t.Errorf("response = %+v", got)
	}
	posts := b.srv.Posts()
	if len(posts) != 1 || string(posts[0].Blocks) != `[{"type":"divider"}]` {
		t.Errorf("posts = %+v", posts)
	}
}

func TestPostErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{
		slacktest.WithChannel(slacktest.Channel{ID: "C0OLD", Name: "old", IsMember: true, IsArchived: true}),
		slacktest.WithChannel(slacktest.Channel{ID: "G0SECRET", Name: "secret", IsPrivate: true}),
	}})
	text := slack.MsgOptionText("hi", false)
	for _, tc := range []struct {
		name    string
		channel string
		opts    []slack.MsgOption
		want    string
	}{
		{"not a member", slacktest.RandomID, []slack.MsgOption{text}, "not_in_channel"},
		{"unknown channel", "C0NOPE", []slack.MsgOption{text}, "channel_not_found"},
		{"archived", "C0OLD", []slack.MsgOption{text}, "is_archived"},
		{"private, not a member", "G0SECRET", []slack.MsgOption{text}, "channel_not_found"},
		{"no text", slacktest.GeneralID, nil, "no_text"},
		{"too long", slacktest.GeneralID, []slack.MsgOption{slack.MsgOptionText(strings.Repeat("a", 40001), false)}, "msg_too_long"},
		{"invalid blocks", slacktest.GeneralID, []slack.MsgOption{text, slack.MsgOptionBlocks(slack.NewDividerBlock(), slack.NewDividerBlock()), dupBlockIDs()}, "invalid_blocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := b.api.PostMessageContext(t.Context(), tc.channel, tc.opts...)
			var serr slack.SlackErrorResponse
			if !errors.As(err, &serr) || serr.Err != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
	if posts := b.srv.Posts(); len(posts) != 0 {
		t.Errorf("posts = %v, want none", posts)
	}
}

// dupBlockIDs sets blocks with a repeated block_id, which Slack refuses.
func dupBlockIDs() slack.MsgOption {
	d1, d2 := slack.NewDividerBlock(), slack.NewDividerBlock()
	d1.BlockID, d2.BlockID = "same", "same"
	return slack.MsgOptionBlocks(d1, d2)
}

func TestDirectMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	ch, _, err := b.api.PostMessageContext(t.Context(), slacktest.AdminID, slack.MsgOptionText("psst", false))
	if err != nil {
		t.Fatal(err)
	}
	if ch != "D0ADMIN" {
		t.Errorf("channel = %q, want the DM D0ADMIN", ch)
	}
	info, err := b.api.GetConversationInfoContext(t.Context(), &slack.GetConversationInfoInput{ChannelID: ch})
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsIM || info.User != slacktest.AdminID {
		t.Errorf("conversations.info = %+v", info)
	}
}

func TestJoinAndInfo(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	ctx := t.Context()
	info, err := b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: slacktest.RandomID})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "random" || info.IsMember || !info.IsChannel {
		t.Errorf("before join: %+v", info.GroupConversation)
	}
	ch, warning, _, err := b.api.JoinConversationContext(ctx, slacktest.RandomID)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.IsMember || warning != "" {
		t.Errorf("join: member %v, warning %q", ch.IsMember, warning)
	}
	if _, warning, _, err = b.api.JoinConversationContext(ctx, slacktest.RandomID); err != nil || warning != "already_in_channel" {
		t.Errorf("second join: warning %q, err %v; want already_in_channel", warning, err)
	}
	if _, _, err := b.api.PostMessageContext(ctx, slacktest.RandomID, slack.MsgOptionText("hi", false)); err != nil {
		t.Errorf("post after join: %v", err)
	}
	if c, _ := b.srv.Channel(slacktest.RandomID); !c.IsMember {
		t.Errorf("Channel() = %+v, want a member", c)
	}
	if _, err := b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C0NOPE"}); err == nil || err.Error() != "channel_not_found" {
		t.Errorf("info of unknown channel: err = %v, want channel_not_found", err)
	}
}

func TestUsersInfo(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{
		slacktest.WithUser(slacktest.User{ID: "U0TOKYO", Name: "kenji", RealName: "Kenji Sato", TZ: "Asia/Tokyo"}),
	}})
	for _, tc := range []struct {
		id                string
		name, realName    string
		admin, owner, bot bool
		tz                string
		offset            int
	}{
		{slacktest.AdminID, "admin", "Ada Admin", true, true, false, "Europe/London", -1},
		{slacktest.MemberID, "member", "Max Member", false, false, false, "America/New_York", -1},
		{"U0TOKYO", "kenji", "Kenji Sato", false, false, false, "Asia/Tokyo", 9 * 3600},
		{slacktest.DefaultBotUserID, "townhall", "townhall", false, false, true, "", 0},
	} {
		t.Run(tc.id, func(t *testing.T) {
			u, err := b.api.GetUserInfoContext(t.Context(), tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if u.ID != tc.id || u.Name != tc.name || u.RealName != tc.realName || u.Profile.RealName != tc.realName ||
				u.IsAdmin != tc.admin || u.IsOwner != tc.owner || u.IsBot != tc.bot || u.TZ != tc.tz || (tc.offset >= 0 && u.TZOffset != tc.offset) {
				t.Errorf("users.info = %+v", u)
			}
		})
	}
	if _, err := b.api.GetUserInfoContext(t.Context(), "U0NOPE"); err == nil || err.Error() != "user_not_found" {
		t.Errorf("unknown user: err = %v, want user_not_found", err)
	}
}

func TestEphemeralAndUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	ctx := t.Context()
	ts, err := b.api.PostEphemeralContext(ctx, slacktest.GeneralID, slacktest.MemberID, slack.MsgOptionText("only you", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := b.api.UpdateMessageContext(ctx, slacktest.GeneralID, ts, slack.MsgOptionText("changed", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("update of an ephemeral message: err = %v, want message_not_found", err)
	}
	if _, err := b.api.PostEphemeralContext(ctx, slacktest.GeneralID, "U0NOPE", slack.MsgOptionText("x", false)); err == nil || err.Error() != "user_not_found" {
		t.Errorf("ephemeral to unknown user: err = %v, want user_not_found", err)
	}

	_, orig, err := b.api.PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText("v1", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, got, _, err := b.api.UpdateMessageContext(ctx, slacktest.GeneralID, orig, slack.MsgOptionText("v2", false)); err != nil || got != orig {
		t.Errorf("update: ts %q, err %v; want %s", got, err, orig)
	}
	posts := b.srv.Posts()
	want := []slacktest.Post{
		{Method: slacktest.MethodPostEphemeral, Channel: slacktest.GeneralID, User: slacktest.MemberID, Text: "only you", TS: ts},
		{Method: slacktest.MethodPostMessage, Channel: slacktest.GeneralID, Text: "v1", TS: orig},
		{Method: slacktest.MethodUpdate, Channel: slacktest.GeneralID, Text: "v2", TS: orig},
	}
	if len(posts) != len(want) {
		t.Fatalf("posts = %v", posts)
	}
	for i := range want {
		p := posts[i]
		if p.Method != want[i].Method || p.Channel != want[i].Channel || p.User != want[i].User || p.Text != want[i].Text || p.TS != want[i].TS {
			t.Errorf("post %d = %+v, want %+v", i, p, want[i])
		}
	}
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	ctx := t.Context()
	post := func() error {
		_, _, err := b.api.PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText("hi", false))
		return err
	}

	b.srv.FailNext("chat.postMessage", http.StatusTooManyRequests, 1500*time.Millisecond)
	b.srv.FailNext("chat.postMessage", http.StatusServiceUnavailable, 0)
	b.srv.FailNextError("chat.postMessage", "fatal_error")

	var rl *slack.RateLimitedError
	if err := post(); !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Errorf("first call: err = %v, want *slack.RateLimitedError retry after 2s", err)
	}
	var sc slack.StatusCodeError
	if err := post(); !errors.As(err, &sc) || sc.Code != http.StatusServiceUnavailable {
		t.Errorf("second call: err = %v, want status 503", err)
	}
	var se slack.SlackErrorResponse
	if err := post(); !errors.As(err, &se) || se.Err != "fatal_error" {
		t.Errorf("third call: err = %v, want fatal_error", err)
	}
	if err := post(); err != nil {
		t.Errorf("fourth call: %v", err)
	}
	if got := b.srv.Calls("chat.postMessage"); got != 4 {
		t.Errorf("Calls = %d, want 4", got)
	}
	if got := len(b.srv.Posts()); got != 1 {
		t.Errorf("%d posts, want 1", got)
	}
}

func TestHoldNext(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	ctx := t.Context()
	post := func(ctx context.Context, text string) error {
		_, _, err := b.api.PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText(text, false))
		return err
	}

	// A released call is served: its message is posted.
	h := b.srv.HoldNext("chat.postMessage")
	done := make(chan error, 1)
	go func() { done <- post(ctx, "released") }()
	from, err := h.Wait(ctx)
	if err != nil || !strings.HasPrefix(from, "127.0.0.1:") {
		t.Fatalf("Wait = %q, %v; want the caller's 127.0.0.1 address", from, err)
	}
	if n := len(b.srv.Posts()); n != 0 {
		t.Fatalf("%d posts while the call is held, want 0", n)
	}
	h.Release()
	if err := <-done; err != nil {
		t.Fatalf("released call: %v", err)
	}
	if served, err := h.Ended(ctx); err != nil || !served {
		t.Fatalf("Ended = %t, %v; want served", served, err)
	}

	// A call whose caller gives up while it is held is dropped.
	h = b.srv.HoldNext("chat.postMessage")
	cctx, cancel := context.WithCancel(ctx)
	go func() { done <- post(cctx, "abandoned") }()
	if _, err := h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned call: err = %v, want context.Canceled", err)
	}
	if served, err := h.Ended(ctx); err != nil || served {
		t.Fatalf("Ended = %t, %v; want dropped", served, err)
	}
	h.Release() // too late: nothing happens
	if err := post(ctx, "after"); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, p := range b.srv.Posts() {
		texts = append(texts, p.Text)
	}
	if strings.Join(texts, ",") != "released,after" {
		t.Errorf("posts %q, want released, after (the abandoned call dropped)", texts)
	}
}

func TestRateLimitBody(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	b.srv.FailNext("chat.postMessage", http.StatusTooManyRequests, 30*time.Second)
	form := url.Values{"token": {b.srv.BotToken()}, "channel": {slacktest.GeneralID}, "text": {"hi"}}
	resp, err := http.PostForm(b.srv.APIURL()+"chat.postMessage", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "30" || !strings.Contains(body.String(), `"error":"ratelimited"`) {
		t.Errorf("status %d, Retry-After %q, body %s", resp.StatusCode, resp.Header.Get("Retry-After"), body.String())
	}
}

func TestUnknownMethod(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	resp, err := http.PostForm(b.srv.APIURL()+"chat.frobnicate", url.Values{"token": {b.srv.BotToken()}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
}

func TestWaitPostsTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.srv.WaitPosts(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}
