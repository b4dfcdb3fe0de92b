package slacktest_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// ts returns the message timestamp i seconds after a fixed instant.
func ts(i int) string { return fmt.Sprintf("%d.000100", 1772442000+i) }

func slackErr(err error) string {
	var serr slack.SlackErrorResponse
	if errors.As(err, &serr) {
		return serr.Err
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func texts(msgs []slack.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Text
	}
	return out
}

func TestHistoryShapes(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // the app posts an hour after the seeded messages
	clock.Advance(time.Hour)
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{slacktest.WithClock(clock.Now)}})
	srv, ctx := b.srv, t.Context()

	srv.AddMessage(slacktest.Message{Text: "hello", TS: ts(1)})
	parent := srv.AddMessage(slacktest.Message{User: slacktest.AdminID, Text: "a thread", TS: ts(2)})
	srv.AddMessage(slacktest.Message{Text: "first reply", TS: ts(3), ThreadTS: parent.TS})
	srv.AddMessage(slacktest.Message{User: slacktest.AdminID, Text: "second reply", TS: ts(4), ThreadTS: parent.TS, Subtype: "thread_broadcast"})
	srv.AddMessage(slacktest.Message{Text: "from a webhook", TS: ts(5), Subtype: "bot_message", BotID: "B0HOOK"})
	gone := srv.AddMessage(slacktest.Message{Text: "oops", TS: ts(6)})
	if err := srv.DeleteMessage(slacktest.GeneralID, gone.TS); err != nil {
		t.Fatal(err)
	}
	edited := srv.AddMessage(slacktest.Message{Text: "typo", TS: ts(7), Blocks: []byte(`[{"type":"divider"}]`)})
	if _, err := srv.EditMessage(slacktest.GeneralID, edited.TS, "fixed"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ user, name string }{{slacktest.AdminID, "eyes"}, {slacktest.MemberID, ":eyes:"}, {slacktest.MemberID, "tada"}} {
		if err := srv.AddReaction(slacktest.GeneralID, edited.TS, r.user, r.name); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.AddReaction(slacktest.GeneralID, edited.TS, slacktest.AdminID, "eyes"); slackErr(errors.Unwrap(err)) != "already_reacted" {
		t.Errorf("second :eyes: from admin: err = %v, want already_reacted", err)
	}
	_, botTS, err := b.api.PostMessageContext(ctx, slacktest.GeneralID, slack.MsgOptionText("from the app", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.api.PostEphemeralContext(ctx, slacktest.GeneralID, slacktest.MemberID, slack.MsgOptionText("just for you", false)); err != nil {
		t.Fatal(err)
	}

	h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"from the app", "fixed", "from a webhook", "second reply", "a thread", "hello"}
	if got := texts(h.Messages); !slices.Equal(got, want) || h.HasMore || h.ResponseMetaData.NextCursor != "" {
		t.Fatalf("history = %q (has_more %v, cursor %q), want %q", got, h.HasMore, h.ResponseMetaData.NextCursor, want)
	}
	app, fixed, hook, broadcast, thread, hello := h.Messages[0], h.Messages[1], h.Messages[2], h.Messages[3], h.Messages[4], h.Messages[5]
	if app.Timestamp != botTS || app.User != slacktest.DefaultBotUserID || app.BotID != slacktest.DefaultBotID || app.SubType != "" || app.BotProfile == nil || app.BotProfile.AppID != slacktest.DefaultAppID {
		t.Errorf("the app's message = %+v", app.Msg)
	}
	if fixed.Edited == nil || fixed.Edited.User != slacktest.MemberID || fixed.Edited.Timestamp <= fixed.Timestamp || len(fixed.Blocks.BlockSet) != 1 {
		t.Errorf("edited message = %+v", fixed.Msg)
	}
	if len(fixed.Reactions) != 2 || fixed.Reactions[0].Name != "eyes" || fixed.Reactions[0].Count != 2 ||
		!slices.Equal(fixed.Reactions[0].Users, []string{slacktest.AdminID, slacktest.MemberID}) || fixed.Reactions[1].Name != "tada" {
		t.Errorf("reactions = %+v", fixed.Reactions)
	}
	if hook.SubType != "bot_message" || hook.BotID != "B0HOOK" || hook.User != "" {
		t.Errorf("webhook message = %+v", hook.Msg)
	}
	if broadcast.SubType != "thread_broadcast" || broadcast.ThreadTimestamp != parent.TS || broadcast.Root == nil || broadcast.Root.Text != "a thread" {
		t.Errorf("broadcast = %+v", broadcast)
	}
	if thread.ThreadTimestamp != parent.TS || thread.ReplyCount != 2 || thread.LatestReply != ts(4) ||
		!slices.Equal(thread.ReplyUsers, []string{slacktest.MemberID, slacktest.AdminID}) || thread.User != slacktest.AdminID {
		t.Errorf("thread parent = %+v", thread.Msg)
	}
	if hello.User != slacktest.MemberID || hello.Team != slacktest.DefaultTeamID || hello.ClientMsgID == "" || hello.ThreadTimestamp != "" || hello.ReplyCount != 0 {
		t.Errorf("plain message = %+v", hello.Msg)
	}

	got, ok := srv.Message(slacktest.GeneralID, parent.TS)
	if !ok || got.ReplyCount != 2 || got.LatestReply != ts(4) || !slices.Equal(got.ReplyUsers, []string{slacktest.MemberID, slacktest.AdminID}) {
		t.Errorf("Message(parent) = %+v, %v", got, ok)
	}
	if _, ok := srv.Message(slacktest.GeneralID, gone.TS); ok {
		t.Error("Message(deleted) found it")
	}
}

func TestHistoryPagination(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	for i := 1; i <= 25; i++ {
		b.srv.AddMessage(slacktest.Message{Text: fmt.Sprint(i), TS: ts(i)})
	}
	// A reply and another channel's messages are not part of the history.
	b.srv.AddMessage(slacktest.Message{Text: "reply", ThreadTS: ts(3)})
	b.srv.AddMessage(slacktest.Message{Channel: "D0ADMIN", Text: "dm"})
	seq := func(from, to int) []string { // from down to to
		var out []string
		for i := from; i >= to; i-- {
			out = append(out, fmt.Sprint(i))
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		params slack.GetConversationHistoryParameters
		pages  []int // sizes of the pages
		want   []string
	}{
		{"everything", slack.GetConversationHistoryParameters{}, []int{25}, seq(25, 1)},
		{"pages of 10", slack.GetConversationHistoryParameters{Limit: 10}, []int{10, 10, 5}, seq(25, 1)},
		{"pages of 5", slack.GetConversationHistoryParameters{Limit: 5}, []int{5, 5, 5, 5, 5}, seq(25, 1)},
		{"over the maximum", slack.GetConversationHistoryParameters{Limit: 5000}, []int{25}, seq(25, 1)},
		{"oldest", slack.GetConversationHistoryParameters{Oldest: ts(20), Limit: 3}, []int{3, 2}, seq(25, 21)},
		{"oldest, inclusive", slack.GetConversationHistoryParameters{Oldest: ts(20), Inclusive: true, Limit: 3}, []int{3, 3}, seq(25, 20)},
		{"latest", slack.GetConversationHistoryParameters{Latest: ts(5)}, []int{4}, seq(4, 1)},
		{"latest, inclusive", slack.GetConversationHistoryParameters{Latest: ts(5), Inclusive: true}, []int{5}, seq(5, 1)},
		{"window", slack.GetConversationHistoryParameters{Oldest: ts(10), Latest: ts(15), Limit: 2}, []int{2, 2}, seq(14, 11)},
		{"window, inclusive", slack.GetConversationHistoryParameters{Oldest: ts(10), Latest: ts(15), Inclusive: true, Limit: 4}, []int{4, 2}, seq(15, 10)},
		{"whole seconds", slack.GetConversationHistoryParameters{Oldest: "1772442023"}, []int{3}, seq(25, 23)},
		{"empty window", slack.GetConversationHistoryParameters{Oldest: ts(30)}, []int{0}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.params
			p.ChannelID = slacktest.GeneralID
			var got []string
			var pages []int
			for {
				h, err := b.api.GetConversationHistoryContext(t.Context(), &p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, texts(h.Messages)...)
				pages = append(pages, len(h.Messages))
				if h.HasMore != (h.ResponseMetaData.NextCursor != "") {
					t.Fatalf("has_more %v with next_cursor %q", h.HasMore, h.ResponseMetaData.NextCursor)
				}
				if !h.HasMore {
					break
				}
				p.Cursor = h.ResponseMetaData.NextCursor
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(pages, tc.pages) {
				t.Errorf("got %q in pages %v, want %q in pages %v", got, pages, tc.want, tc.pages)
			}
		})
	}
}

func TestHistoryErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{
		slacktest.WithChannel(slacktest.Channel{ID: "C0SECRET", Name: "secret", IsPrivate: true}),
		slacktest.WithChannel(slacktest.Channel{ID: "C0CLUB", Name: "club", IsPrivate: true, IsMember: true}),
		slacktest.WithChannel(slacktest.Channel{ID: "C0OLD", Name: "old", IsMember: true, IsArchived: true}),
	}})
	for _, tc := range []struct {
		name string
		p    slack.GetConversationHistoryParameters
		want string
	}{
		{"unknown channel", slack.GetConversationHistoryParameters{ChannelID: "C0NOPE"}, "channel_not_found"},
		{"a name is not an ID", slack.GetConversationHistoryParameters{ChannelID: "general"}, "channel_not_found"},
		{"public, not a member", slack.GetConversationHistoryParameters{ChannelID: slacktest.RandomID}, "not_in_channel"},
		{"private, not a member", slack.GetConversationHistoryParameters{ChannelID: "C0SECRET"}, "channel_not_found"},
		{"private, a member", slack.GetConversationHistoryParameters{ChannelID: "C0CLUB"}, ""},
		{"archived", slack.GetConversationHistoryParameters{ChannelID: "C0OLD"}, ""},
		{"a DM", slack.GetConversationHistoryParameters{ChannelID: "D0ADMIN"}, ""},
		{"a DM with nobody", slack.GetConversationHistoryParameters{ChannelID: "D0NOBODY"}, "channel_not_found"},
		{"bad cursor", slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID, Cursor: "bm9wZQ=="}, "invalid_cursor"},
		{"bad latest", slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID, Latest: "yesterday"}, "invalid_ts_latest"},
		{"bad oldest", slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID, Oldest: "-1"}, "invalid_ts_oldest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.api.GetConversationHistoryContext(t.Context(), &tc.p)
			if got := slackErr(err); got != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReplies(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // the app posts an hour after the seeded messages
	clock.Advance(time.Hour)
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{slacktest.WithClock(clock.Now)}})
	srv := b.srv
	parent := srv.AddMessage(slacktest.Message{User: slacktest.AdminID, Text: "parent", TS: ts(1)})
	for i := 2; i <= 5; i++ {
		srv.AddMessage(slacktest.Message{Text: fmt.Sprintf("r%d", i-1), TS: ts(i), ThreadTS: parent.TS})
	}
	lonely := srv.AddMessage(slacktest.Message{Text: "no replies", TS: ts(10)})
	// The app replies too, through the Web API, and to the channel as well.
	_, appTS, err := b.api.PostMessageContext(t.Context(), slacktest.GeneralID, slack.MsgOptionText("r5", false), slack.MsgOptionTS(parent.TS), slack.MsgOptionBroadcast())
	if err != nil {
		t.Fatal(err)
	}
	h, err := b.api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(h.Messages); !slices.Equal(got, []string{"r5", "no replies", "parent"}) || h.Messages[0].SubType != "thread_broadcast" {
		t.Errorf("history = %q, want the broadcast reply in it", got)
	}

	all := []string{"parent", "r1", "r2", "r3", "r4", "r5"}
	for _, tc := range []struct {
		name  string
		p     slack.GetConversationRepliesParameters
		pages []int
		want  []string
	}{
		{"the whole thread", slack.GetConversationRepliesParameters{Timestamp: parent.TS}, []int{6}, all},
		{"from a reply", slack.GetConversationRepliesParameters{Timestamp: ts(3)}, []int{6}, all},
		{"from the app's reply", slack.GetConversationRepliesParameters{Timestamp: appTS}, []int{6}, all},
		{"pages of 2", slack.GetConversationRepliesParameters{Timestamp: parent.TS, Limit: 2}, []int{2, 2, 2}, all},
		{"pages of 4", slack.GetConversationRepliesParameters{Timestamp: parent.TS, Limit: 4}, []int{4, 2}, all},
		{"oldest", slack.GetConversationRepliesParameters{Timestamp: parent.TS, Oldest: ts(3)}, []int{4}, []string{"parent", "r3", "r4", "r5"}},
		{"window, inclusive", slack.GetConversationRepliesParameters{Timestamp: parent.TS, Oldest: ts(3), Latest: ts(4), Inclusive: true}, []int{3}, []string{"parent", "r2", "r3"}},
		{"no replies", slack.GetConversationRepliesParameters{Timestamp: lonely.TS}, []int{1}, []string{"no replies"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.p
			p.ChannelID = slacktest.GeneralID
			var got []string
			var pages []int
			for {
				msgs, hasMore, cursor, err := b.api.GetConversationRepliesContext(t.Context(), &p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, texts(msgs)...)
				pages = append(pages, len(msgs))
				if !hasMore {
					break
				}
				p.Cursor = cursor
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(pages, tc.pages) {
				t.Errorf("got %q in pages %v, want %q in pages %v", got, pages, tc.want, tc.pages)
			}
		})
	}

	msgs, _, _, err := b.api.GetConversationRepliesContext(t.Context(), &slack.GetConversationRepliesParameters{ChannelID: slacktest.GeneralID, Timestamp: parent.TS})
	if err != nil {
		t.Fatal(err)
	}
	p, r := msgs[0], msgs[1]
	if p.ThreadTimestamp != parent.TS || p.ReplyCount != 5 || p.LatestReply != appTS {
		t.Errorf("parent = %+v", p.Msg)
	}
	if r.ThreadTimestamp != parent.TS || r.ParentUserId != slacktest.AdminID || r.ReplyCount != 0 {
		t.Errorf("reply = %+v", r.Msg)
	}
	if last := msgs[5]; last.BotID != slacktest.DefaultBotID || last.ThreadTimestamp != parent.TS {
		t.Errorf("the app's reply = %+v", last.Msg)
	}
}

func TestRepliesDeleted(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	srv := b.srv
	parent := srv.AddMessage(slacktest.Message{Text: "parent"})
	reply := srv.AddMessage(slacktest.Message{Text: "reply", ThreadTS: parent.TS})
	other := srv.AddMessage(slacktest.Message{Text: "other"})
	for _, m := range []slacktest.Message{parent, other} {
		if err := srv.DeleteMessage(slacktest.GeneralID, m.TS); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	replies := func(ts string) ([]slack.Message, error) {
		msgs, _, _, err := b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: slacktest.GeneralID, Timestamp: ts})
		return msgs, err
	}

	// A deleted parent with replies stays as a tombstone, in history and thread.
	h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].SubType != "tombstone" || h.Messages[0].ReplyCount != 1 || h.Messages[0].Timestamp != parent.TS {
		t.Errorf("history = %+v", h.Messages)
	}
	msgs, err := replies(reply.TS)
	if err != nil || len(msgs) != 2 || msgs[0].SubType != "tombstone" || msgs[1].Text != "reply" {
		t.Errorf("thread = %+v, %v", msgs, err)
	}

	// Once the last reply goes, so does the thread.
	if err := srv.DeleteMessage(slacktest.GeneralID, reply.TS); err != nil {
		t.Fatal(err)
	}
	for _, ts := range []string{parent.TS, reply.TS, other.TS, "1.000000"} {
		if _, err := replies(ts); slackErr(err) != "thread_not_found" {
			t.Errorf("replies of %s: err = %v, want thread_not_found", ts, err)
		}
	}
	if h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID}); err != nil || len(h.Messages) != 0 {
		t.Errorf("history = %+v, %v; want none", h, err)
	}
	if err := srv.DeleteMessage(slacktest.GeneralID, reply.TS); err == nil || !strings.Contains(err.Error(), "message_not_found") {
		t.Errorf("deleting twice: err = %v, want message_not_found", err)
	}
}

func TestPermalink(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{
		slacktest.WithChannel(slacktest.Channel{ID: "C0SECRET", Name: "secret", IsPrivate: true}),
	}})
	parent := b.srv.AddMessage(slacktest.Message{Text: "parent", TS: "1358546515.000008"})
	reply := b.srv.AddMessage(slacktest.Message{Text: "reply", TS: "1358546517.000023", ThreadTS: parent.TS})
	random := b.srv.AddMessage(slacktest.Message{Channel: slacktest.RandomID, Text: "elsewhere", TS: "1358546600.000001"})
	secret := b.srv.AddMessage(slacktest.Message{Channel: "C0SECRET", Text: "hush", TS: "1358546600.000002"})
	for _, tc := range []struct {
		channel, ts string
		want        string
		err         string
	}{
		{slacktest.GeneralID, parent.TS, "https://townhall-test.slack.com/archives/C0GENERAL/p1358546515000008", ""},
		{slacktest.GeneralID, reply.TS, "https://townhall-test.slack.com/archives/C0GENERAL/p1358546517000023?thread_ts=1358546515.000008&cid=C0GENERAL", ""},
		{slacktest.RandomID, random.TS, "https://townhall-test.slack.com/archives/C0RANDOM/p1358546600000001", ""},
		{"C0SECRET", secret.TS, "", "channel_not_found"},
		{"C0NOPE", parent.TS, "", "channel_not_found"},
		{slacktest.GeneralID, "1358546515.000009", "", "message_not_found"},
	} {
		got, err := b.api.GetPermalinkContext(t.Context(), &slack.PermalinkParameters{Channel: tc.channel, Ts: tc.ts})
		if got != tc.want || slackErr(err) != tc.err {
			t.Errorf("permalink of %s/%s = %q, %v; want %q, %q", tc.channel, tc.ts, got, err, tc.want, tc.err)
		}
	}
}

func TestAddMessage(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := slacktest.New(t, slacktest.WithClock(clock.Now))
	m := srv.AddMessage(slacktest.Message{Text: "hi"})
	if m.Channel != slacktest.GeneralID || m.User != slacktest.MemberID || m.TS != "1772442000.000000" {
		t.Errorf("defaults: %+v", m)
	}
	if dm := srv.AddMessage(slacktest.Message{Channel: "D0ADMIN", Text: "psst"}); dm.User != slacktest.AdminID || dm.TS != "1772442000.000001" {
		t.Errorf("DM defaults: %+v", dm)
	}
	// A reply to a reply joins the parent's thread; a ts from the future
	// moves the server's timestamps past it.
	r := srv.AddMessage(slacktest.Message{Text: "re", ThreadTS: m.TS, TS: "1772450000.000000"})
	rr := srv.AddMessage(slacktest.Message{Text: "re re", ThreadTS: r.TS})
	if rr.ThreadTS != m.TS || rr.TS != "1772450000.000001" {
		t.Errorf("reply to a reply: %+v", rr)
	}
	f := srv.AddMessage(slacktest.Message{Text: "", Subtype: "file_share", Files: []slacktest.File{{Name: "a.txt", Filetype: "text"}}})
	if len(f.Files) != 1 || !strings.HasPrefix(f.Files[0].ID, "F") {
		t.Errorf("file: %+v", f.Files)
	}

	for _, tc := range []struct {
		name string
		m    slacktest.Message
		want string
	}{
		{"unknown channel", slacktest.Message{Channel: "C0NOPE"}, "channel_not_found"},
		{"unknown user", slacktest.Message{User: "U0NOBODY"}, "unknown user"},
		{"stranger in a DM", slacktest.Message{Channel: "D0ADMIN", User: slacktest.MemberID}, "not in the DM"},
		{"taken ts", slacktest.Message{TS: m.TS}, "is taken"},
		{"bad ts", slacktest.Message{TS: "noon"}, "not a message timestamp"},
		{"bot message without a bot", slacktest.Message{Subtype: "bot_message"}, "BotID"},
		{"broadcast outside a thread", slacktest.Message{Subtype: "thread_broadcast"}, "ThreadTS"},
		{"bad blocks", slacktest.Message{Blocks: []byte(`[{}]`)}, "invalid_blocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if got := fmt.Sprint(recover()); !strings.Contains(got, tc.want) {
					t.Errorf("panic %q, want one about %q", got, tc.want)
				}
			}()
			srv.AddMessage(tc.m)
		})
	}
}

// TestEventMessagesInHistory checks that messages sent with Event join the
// history once, and that hidden subtypes do not.
func TestEventMessagesInHistory(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)
	send := func(ev map[string]any) {
		t.Helper()
		if _, err := b.srv.Event(ctx, ev); err != nil {
			t.Fatal(err)
		}
		b.next(t)
	}
	send(map[string]any{"type": "message", "channel": slacktest.GeneralID, "user": slacktest.MemberID, "text": "<@U0BOT> hi", "ts": ts(1)})
	send(map[string]any{"type": "app_mention", "channel": slacktest.GeneralID, "user": slacktest.MemberID, "text": "<@U0BOT> hi", "ts": ts(1)})
	send(map[string]any{"type": "message", "subtype": "message_changed", "channel": slacktest.GeneralID, "ts": ts(2), "message": map[string]any{"text": "x"}})
	send(map[string]any{"type": "reaction_added", "user": slacktest.MemberID, "reaction": "tada", "item": map[string]any{"type": "message", "channel": slacktest.GeneralID, "ts": ts(1)}})
	h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(h.Messages); !slices.Equal(got, []string{"<@U0BOT> hi"}) {
		t.Errorf("history = %q, want the one message", got)
	}
}
