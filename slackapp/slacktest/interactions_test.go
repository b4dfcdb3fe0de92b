package slacktest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// command sends a slash command and returns what the client received.
func command(t *testing.T, b *bundle, cmd slacktest.SlashCommand) slack.SlashCommand {
	t.Helper()
	if _, err := b.srv.SlashCommand(waitCtx(t), cmd); err != nil {
		t.Fatal(err)
	}
	evt := b.next(t)
	got, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		t.Fatalf("got %T, want a slash command", evt.Data)
	}
	return got
}

func respond(t *testing.T, responseURL string, msg slack.WebhookMessage) error {
	t.Helper()
	return slack.PostWebhookCustomHTTPContext(t.Context(), responseURL, http.DefaultClient, &msg)
}

func TestResponseURL(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	cmd := command(t, b, slacktest.SlashCommand{Command: "/call", UserID: slacktest.MemberID, ChannelID: slacktest.RandomID})

	if err := respond(t, cmd.ResponseURL, slack.WebhookMessage{Text: "Only you see this"}); err != nil {
		t.Fatal(err)
	}
	blocks := slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}
	if err := respond(t, cmd.ResponseURL, slack.WebhookMessage{Text: "Everyone sees this", ResponseType: "in_channel", Blocks: &blocks}); err != nil {
		t.Fatal(err)
	}
	posts, err := b.srv.WaitPosts(waitCtx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []slacktest.Post{
		{Method: slacktest.MethodResponseURL, Channel: slacktest.RandomID, User: slacktest.MemberID, Text: "Only you see this", ResponseType: "ephemeral"},
		{Method: slacktest.MethodResponseURL, Channel: slacktest.RandomID, Text: "Everyone sees this", ResponseType: "in_channel"},
	} {
		p := posts[i]
		if p.Method != want.Method || p.Channel != want.Channel || p.User != want.User || p.Text != want.Text || p.ResponseType != want.ResponseType || p.TS == "" {
			t.Errorf("post %d = %+v, want %+v", i, p, want)
		}
	}
	if string(posts[1].Blocks) != `[{"type":"divider"}]` {
		t.Errorf("blocks = %s", posts[1].Blocks)
	}
}

func TestResponseURLLimits(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := setup(t, setupOptions{server: []slacktest.Option{slacktest.WithClock(clock.Now)}})
	used := command(t, b, slacktest.SlashCommand{Command: "/call"}).ResponseURL
	expiring := command(t, b, slacktest.SlashCommand{Command: "/call"}).ResponseURL

	// A failed call does not use the URL up.
	b.srv.FailNext(slacktest.MethodResponseURL, http.StatusInternalServerError, 0)
	var sc slack.StatusCodeError
	if err := respond(t, used, slack.WebhookMessage{Text: "x"}); !errors.As(err, &sc) || sc.Code != http.StatusInternalServerError {
		t.Fatalf("injected failure: err = %v, want status 500", err)
	}
	for i := range 5 {
		if err := respond(t, used, slack.WebhookMessage{Text: "x"}); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	clock.Advance(31 * time.Minute)

	for _, tc := range []struct {
		name, url string
		body      slack.WebhookMessage
		status    int
		code      string
	}{
		{"sixth use", used, slack.WebhookMessage{Text: "x"}, http.StatusNotFound, "used_url"},
		{"after 30 minutes", expiring, slack.WebhookMessage{Text: "x"}, http.StatusNotFound, "expired_url"},
		{"unknown", b.srv.URL() + "/response/nope", slack.WebhookMessage{Text: "x"}, http.StatusNotFound, "invalid_url"},
		{"no text", expiring, slack.WebhookMessage{}, http.StatusBadRequest, "no_text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Post(tc.url, "application/json", strings.NewReader(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), `"error":"`+tc.code+`"`) {
				t.Errorf("status %d, body %s; want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
		})
	}
	if got := len(b.srv.Posts()); got != 5 {
		t.Errorf("%d posts, want 5", got)
	}
	if got := b.srv.Calls(slacktest.MethodResponseURL); got != 10 {
		t.Errorf("Calls(response_url) = %d, want 10", got)
	}
}

func TestViewsOpen(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := setup(t, setupOptions{server: []slacktest.Option{slacktest.WithClock(clock.Now)}})
	ctx := waitCtx(t)
	modal := slack.ModalViewRequest{
		Type:   slack.VTModal,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Add feed", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}
	trigger := command(t, b, slacktest.SlashCommand{Command: "/feeds", UserID: slacktest.AdminID}).TriggerID
	resp, err := b.api.OpenViewContext(ctx, trigger, modal)
	if err != nil {
		t.Fatal(err)
	}
	views := b.srv.Views()
	if len(views) != 1 || resp.ID == "" || views[0].ID != resp.ID || views[0].UserID != slacktest.AdminID || views[0].TriggerID != trigger {
		t.Fatalf("views = %+v, response %+v", views, resp.View)
	}
	got, err := views[0].Modal()
	if err != nil || got.Title.Text != "Add feed" {
		t.Errorf("modal = %+v, %v", got, err)
	}

	stale := command(t, b, slacktest.SlashCommand{Command: "/feeds"}).TriggerID
	clock.Advance(slacktest.DefaultTriggerTTL + time.Second)
	for _, tc := range []struct{ name, trigger, want string }{
		{"used", trigger, "exchanged_trigger_id"},
		{"expired", stale, "expired_trigger_id"},
		{"unknown", "1.2.3", "invalid_trigger_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.api.OpenViewContext(ctx, tc.trigger, modal)
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != tc.want {
				t.Errorf("err = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestBlockAction(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)
	button := slack.NewButtonBlockElement("feeds_remove", "42", slack.NewTextBlockObject(slack.PlainTextType, "Remove", false, false))
	_, ts, err := b.api.PostMessageContext(ctx, slacktest.GeneralID,
		slack.MsgOptionText("Feeds", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("feeds", button)))
	if err != nil {
		t.Fatal(err)
	}

	if _, err := b.srv.BlockAction(ctx, slacktest.BlockAction{ActionID: "feeds_remove", UserID: slacktest.AdminID}); err != nil {
		t.Fatal(err)
	}
	evt := b.next(t)
	if evt.Type != socketmode.EventTypeInteractive || evt.Request.Type != slacktest.TypeInteractive {
		t.Fatalf("got %v / %q, want interactive", evt.Type, evt.Request.Type)
	}
	cb := evt.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != slacktest.AdminID || cb.Channel.ID != slacktest.GeneralID ||
		cb.Container.MessageTs != ts || cb.Message.Timestamp != ts || cb.TriggerID == "" || cb.ResponseURL == "" || cb.APIAppID != slacktest.DefaultAppID {
		t.Errorf("callback = %+v", cb)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		t.Fatalf("actions = %+v", cb.ActionCallback)
	}
	a := cb.ActionCallback.BlockActions[0]
	if a.ActionID != "feeds_remove" || a.BlockID != "feeds" || a.Value != "42" || a.Type != "button" || a.Text.Text != "Remove" {
		t.Errorf("action = %+v", a)
	}

	if err := respond(t, cb.ResponseURL, slack.WebhookMessage{Text: "Removed", ReplaceOriginal: true}); err != nil {
		t.Fatal(err)
	}
	posts, err := b.srv.WaitPosts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p := posts[1]; p.Method != slacktest.MethodResponseURL || !p.ReplaceOriginal || p.TS != ts || p.ResponseType != "in_channel" || p.Text != "Removed" {
		t.Errorf("replacement = %+v", p)
	}
	// The button is gone with the replaced message.
	if _, err := b.srv.BlockAction(ctx, slacktest.BlockAction{ActionID: "feeds_remove"}); err == nil {
		t.Error("BlockAction on a replaced message: want an error")
	}
}

func TestMessageShortcut(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)
	mention, err := b.srv.Event(ctx, map[string]any{"type": "message", "user": slacktest.AdminID, "text": "Bonjour tout le monde", "channel": slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	b.next(t)
	var inner struct {
		Event struct {
			TS string `json:"ts"`
		} `json:"event"`
	}
	if err := json.Unmarshal(mention.Payload, &inner); err != nil {
		t.Fatal(err)
	}

	if _, err := b.srv.MessageShortcut(ctx, slacktest.MessageShortcut{CallbackID: "translate", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID, MessageTS: inner.Event.TS}); err != nil {
		t.Fatal(err)
	}
	cb := b.next(t).Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeMessageAction || cb.CallbackID != "translate" || cb.User.ID != slacktest.MemberID ||
		cb.Message.Text != "Bonjour tout le monde" || cb.Message.User != slacktest.AdminID || cb.MessageTs != inner.Event.TS || cb.ResponseURL == "" || cb.TriggerID == "" {
		t.Errorf("callback = %+v", cb)
	}
}

func TestBlockActionOnEphemeral(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)
	cmd := command(t, b, slacktest.SlashCommand{Command: "/feeds", UserID: slacktest.AdminID})
	list := slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "feed 1", false, false), nil,
			slack.NewAccessory(slack.NewButtonBlockElement("feeds_remove", "1", slack.NewTextBlockObject(slack.PlainTextType, "Remove", false, false)))),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "feed 2", false, false), nil,
			slack.NewAccessory(slack.NewButtonBlockElement("feeds_remove", "2", slack.NewTextBlockObject(slack.PlainTextType, "Remove", false, false)))),
	}}
	if err := respond(t, cmd.ResponseURL, slack.WebhookMessage{Text: "Feeds", Blocks: &list}); err != nil {
		t.Fatal(err)
	}

	if _, err := b.srv.BlockAction(ctx, slacktest.BlockAction{ActionID: "feeds_remove", Value: "2", UserID: slacktest.MemberID}); err == nil {
		t.Error("another user clicked an ephemeral message: want an error")
	}
	if _, err := b.srv.BlockAction(ctx, slacktest.BlockAction{ActionID: "feeds_remove", Value: "2"}); err != nil {
		t.Fatal(err)
	}
	cb := b.next(t).Data.(slack.InteractionCallback)
	if cb.User.ID != slacktest.AdminID || !cb.Container.IsEphemeral || cb.ActionCallback.BlockActions[0].Value != "2" {
		t.Errorf("callback: user %s, ephemeral %v, actions %+v", cb.User.ID, cb.Container.IsEphemeral, cb.ActionCallback.BlockActions)
	}
	if err := respond(t, cb.ResponseURL, slack.WebhookMessage{DeleteOriginal: true}); err != nil {
		t.Fatal(err)
	}
	posts, err := b.srv.WaitPosts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p := posts[1]; !p.DeleteOriginal || p.TS != posts[0].TS {
		t.Errorf("delete = %+v, want of %s", p, posts[0].TS)
	}
	if _, err := b.srv.BlockAction(ctx, slacktest.BlockAction{ActionID: "feeds_remove"}); err == nil {
		t.Error("clicked a deleted message: want an error")
	}
}
