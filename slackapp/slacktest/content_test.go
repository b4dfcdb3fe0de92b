package slacktest_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// innerEvent returns the inner event of an events_api request twice: as
// slack-go parsed it, and as raw JSON fields.
func innerEvent(t *testing.T, evt socketmode.Event) (any, map[string]json.RawMessage) {
	t.Helper()
	api, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok {
		t.Fatalf("request %s carries %T, want an events API event", evt.Type, evt.Data)
	}
	var payload struct {
		Event map[string]json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(evt.Request.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	return api.InnerEvent.Data, payload.Event
}

func TestPostUserMessage(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{server: []slacktest.Option{
		slacktest.WithChannel(slacktest.Channel{ID: "C0CLUB", Name: "club", IsPrivate: true, IsMember: true}),
		slacktest.WithChannel(slacktest.Channel{ID: "C0SECRET", Name: "secret", IsPrivate: true}),
	}})
	ctx := waitCtx(t)
	for _, tc := range []struct {
		name        string
		m           slacktest.Message
		channelType string // "" if Slack sends no event
	}{
		{"public channel", slacktest.Message{Channel: slacktest.GeneralID, Text: "hello"}, "channel"},
		{"private channel", slacktest.Message{Channel: "C0CLUB", User: slacktest.AdminID, Text: "between us"}, "group"},
		{"DM", slacktest.Message{Channel: "D0ADMIN", Text: "psst"}, "im"},
		{"public channel without the bot", slacktest.Message{Channel: slacktest.RandomID, Text: "unseen"}, ""},
		{"private channel without the bot", slacktest.Message{Channel: "C0SECRET", Text: "unseen"}, ""},
		{"thread reply", slacktest.Message{Channel: slacktest.GeneralID, Text: "in a thread", ThreadTS: "1772442000.000100", TS: "1772442001.000100"}, "channel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.m.ThreadTS != "" {
				b.srv.AddMessage(slacktest.Message{Channel: tc.m.Channel, User: slacktest.AdminID, Text: "parent", TS: tc.m.ThreadTS})
			}
			m, env, err := b.srv.PostUserMessage(ctx, tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := b.srv.Message(m.Channel, m.TS); !ok || got.Text != tc.m.Text {
				t.Errorf("Message() = %+v, %v; want the message in history", got, ok)
			}
			if tc.channelType == "" {
				if env.ID != "" {
					t.Errorf("envelope %s sent from a conversation the bot is not in", env.ID)
				}
				return
			}
			data, raw := innerEvent(t, b.next(t))
			ev, ok := data.(*slackevents.MessageEvent)
			if !ok {
				t.Fatalf("inner event %T, want a message", data)
			}
			if ev.Channel != m.Channel || ev.User != m.User || ev.Text != tc.m.Text || ev.TimeStamp != m.TS || ev.EventTimeStamp != m.TS ||
				ev.ChannelType != tc.channelType || ev.ClientMsgID == "" || ev.SubType != "" || ev.ThreadTimeStamp != tc.m.ThreadTS {
				t.Errorf("event = %+v", ev)
			}
			if tc.m.ThreadTS != "" && string(raw["parent_user_id"]) != `"U0ADMIN"` {
				t.Errorf("reply event without parent_user_id: %s", raw["parent_user_id"])
			}
			if string(raw["team"]) != `"T0TOWNHALL"` {
				t.Errorf("team = %s", raw["team"])
			}
		})
	}
}

func TestEditDeleteReactEvents(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{})
	ctx := waitCtx(t)
	srv := b.srv
	m := srv.AddMessage(slacktest.Message{Text: "helo", User: slacktest.AdminID})

	edited, env, err := srv.EditUserMessage(ctx, slacktest.GeneralID, m.TS, "hello", slacktest.EventID("Ev0EDIT"))
	if err != nil || env.ID == "" {
		t.Fatalf("EditUserMessage: %v, envelope %q", err, env.ID)
	}
	data, raw := innerEvent(t, b.next(t))
	changed := data.(*slackevents.MessageEvent)
	if changed.SubType != "message_changed" || changed.Channel != slacktest.GeneralID || changed.ChannelType != "channel" ||
		changed.TimeStamp != edited.Edited.TS || changed.EventTimeStamp != edited.Edited.TS || string(raw["hidden"]) != "true" {
		t.Errorf("message_changed = %+v", changed)
	}
	if changed.Message == nil || changed.Message.Text != "hello" || changed.Message.Timestamp != m.TS || changed.Message.Edited == nil ||
		changed.Message.Edited.User != slacktest.AdminID || changed.Message.Edited.Timestamp != edited.Edited.TS {
		t.Errorf("message = %+v", changed.Message)
	}
	if changed.PreviousMessage == nil || changed.PreviousMessage.Text != "helo" || changed.PreviousMessage.Edited != nil {
		t.Errorf("previous_message = %+v", changed.PreviousMessage)
	}

	if _, err := srv.AddUserReaction(ctx, slacktest.GeneralID, m.TS, slacktest.MemberID, ":tada:"); err != nil {
		t.Fatal(err)
	}
	data, _ = innerEvent(t, b.next(t))
	r := data.(*slackevents.ReactionAddedEvent)
	if r.User != slacktest.MemberID || r.Reaction != "tada" || r.ItemUser != slacktest.AdminID || r.EventTimestamp == "" ||
		r.Item.Type != "message" || r.Item.Channel != slacktest.GeneralID || r.Item.Timestamp != m.TS {
		t.Errorf("reaction_added = %+v", r)
	}

	if _, err := srv.DeleteUserMessage(ctx, slacktest.GeneralID, m.TS); err != nil {
		t.Fatal(err)
	}
	data, _ = innerEvent(t, b.next(t))
	deleted := data.(*slackevents.MessageEvent)
	if deleted.SubType != "message_deleted" || deleted.DeletedTimeStamp != m.TS || deleted.TimeStamp == m.TS || deleted.ChannelType != "channel" ||
		deleted.PreviousMessage == nil || deleted.PreviousMessage.Text != "hello" || len(deleted.PreviousMessage.Reactions) != 1 {
		t.Errorf("message_deleted = %+v, previous %+v", deleted, deleted.PreviousMessage)
	}
	if _, ok := srv.Message(slacktest.GeneralID, m.TS); ok {
		t.Error("the message is still there")
	}

	// Errors, and no event from a channel the bot is not in.
	if _, _, err := srv.EditUserMessage(ctx, slacktest.GeneralID, m.TS, "again"); err == nil {
		t.Error("editing a deleted message worked")
	}
	quiet := srv.AddMessage(slacktest.Message{Channel: slacktest.RandomID, Text: "quiet"})
	if _, env, err := srv.EditUserMessage(ctx, slacktest.RandomID, quiet.TS, "still quiet"); err != nil || env.ID != "" {
		t.Errorf("edit in #random: envelope %q, err %v; want none", env.ID, err)
	}
	if env, err := srv.AddUserReaction(ctx, slacktest.RandomID, quiet.TS, slacktest.AdminID, "shh"); err != nil || env.ID != "" {
		t.Errorf("reaction in #random: envelope %q, err %v; want none", env.ID, err)
	}
	if env, err := srv.DeleteUserMessage(ctx, slacktest.RandomID, quiet.TS); err != nil || env.ID != "" {
		t.Errorf("delete in #random: envelope %q, err %v; want none", env.ID, err)
	}
	// The next request is this one: nothing came from #random.
	if _, _, err := srv.PostUserMessage(ctx, slacktest.Message{Text: "marker"}); err != nil {
		t.Fatal(err)
	}
	if data, _ := innerEvent(t, b.next(t)); data.(*slackevents.MessageEvent).Text != "marker" {
		t.Errorf("next event = %+v, want the marker", data)
	}
}

func TestConversationsList(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{
		slacktest.WithChannel(slacktest.Channel{ID: "C0CLUB", Name: "club", IsPrivate: true, IsMember: true, Topic: "members only"}),
		slacktest.WithChannel(slacktest.Channel{ID: "C0SECRET", Name: "secret", IsPrivate: true}),
		slacktest.WithChannel(slacktest.Channel{ID: "C0OLD", Name: "old", IsArchived: true, NumMembers: 7}),
	}})
	srv := b.srv
	srv.AddChannel(slacktest.Channel{ID: "C0NEW", Name: "new", Purpose: "fresh"})
	added := srv.AddChannel(slacktest.Channel{Name: "another"})
	srv.AddMessage(slacktest.Message{Channel: "D0ADMIN", Text: "opens the DM"})

	ids := func(chs []slack.Channel) []string {
		var out []string
		for _, c := range chs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		opts []slack.GetConversationsOption
		want []string
	}{
		{"public by default", nil, []string{slacktest.GeneralID, slacktest.RandomID, "C0OLD", "C0NEW", added.ID}},
		{"public and private, small pages", []slack.GetConversationsOption{
			slack.GetConversationsOptionTypes([]string{"public_channel", "private_channel"}), slack.GetConversationsOptionLimit(2),
		}, []string{slacktest.GeneralID, slacktest.RandomID, "C0CLUB", "C0OLD", "C0NEW", added.ID}},
		{"not archived", []slack.GetConversationsOption{slack.GetConversationsOptionExcludeArchived(true), slack.GetConversationsOptionLimit(1)},
			[]string{slacktest.GeneralID, slacktest.RandomID, "C0NEW", added.ID}},
		{"DMs", []slack.GetConversationsOption{slack.GetConversationsOptionTypes([]string{"im"})}, []string{"D0ADMIN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := b.api.GetAllConversationsContext(t.Context(), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("channels = %v, want %v", ids(got), tc.want)
			}
		})
	}

	// A page holds limit conversations before the filters: one may be short.
	chs, cursor, err := b.api.GetConversationsContext(t.Context(), &slack.GetConversationsParameters{Limit: 3})
	if err != nil || !slices.Equal(ids(chs), []string{slacktest.GeneralID, slacktest.RandomID}) || cursor == "" {
		t.Errorf("first page of 3 = %v, cursor %q, %v; want general, random and a cursor", ids(chs), cursor, err)
	}

	all, err := b.api.GetAllConversationsContext(t.Context(), slack.GetConversationsOptionTypes([]string{"public_channel", "private_channel", "im"}))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]slack.Channel{}
	for _, c := range all {
		byID[c.ID] = c
	}
	if g := byID[slacktest.GeneralID]; g.Name != "general" || !g.IsChannel || g.IsPrivate || !g.IsMember || g.NumMembers != 3 || g.Created == 0 {
		t.Errorf("general = %+v", g.GroupConversation)
	}
	if c := byID["C0CLUB"]; !c.IsPrivate || !c.IsChannel || c.IsGroup || c.Topic.Value != "members only" || c.Topic.Creator == "" {
		t.Errorf("club = %+v", c.GroupConversation)
	}
	if c := byID["C0OLD"]; !c.IsArchived || c.NumMembers != 7 {
		t.Errorf("old = %+v", c.GroupConversation)
	}
	if c := byID["C0NEW"]; c.Purpose.Value != "fresh" || c.IsMember || c.NumMembers != 2 {
		t.Errorf("new = %+v", c.GroupConversation)
	}
	if c := byID["D0ADMIN"]; !c.IsIM || c.User != slacktest.AdminID {
		t.Errorf("DM = %+v", c)
	}

	for _, tc := range []struct {
		name string
		p    slack.GetConversationsParameters
		want string
	}{
		{"limit too high", slack.GetConversationsParameters{Limit: 1001}, "invalid_limit"},
		{"bad type", slack.GetConversationsParameters{Types: []string{"channels"}}, "invalid_types"},
		{"bad cursor", slack.GetConversationsParameters{Cursor: "dGVhbTpDME5PUEU="}, "invalid_cursor"},
	} {
		if _, _, err := b.api.GetConversationsContext(t.Context(), &tc.p); slackErr(err) != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.name, err, tc.want)
		}
	}
}

func TestChannelChanges(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true})
	srv, ctx := b.srv, t.Context()
	ch := srv.AddChannel(slacktest.Channel{Name: "plans", IsMember: true})
	if ch.ID == "" || ch.ID[0] != 'C' {
		t.Fatalf("new channel ID %q", ch.ID)
	}
	if _, _, err := b.api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("before", false)); err != nil {
		t.Fatal(err)
	}
	if err := srv.RenameChannel(ch.ID, "roadmap"); err != nil {
		t.Fatal(err)
	}
	if err := srv.RenameChannel(ch.ID, "general"); err == nil {
		t.Error("renaming to a taken name worked")
	}
	if _, _, err := b.api.PostMessageContext(ctx, "#roadmap", slack.MsgOptionText("after", false)); err != nil {
		t.Errorf("post to the new name: %v", err)
	}
	info, err := b.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.ID})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "roadmap" || !slices.Equal(info.PreviousNames, []string{"plans"}) {
		t.Errorf("info after rename = %+v", info.GroupConversation)
	}
	posts := srv.Posts()
	if got := []string{posts[0].String(), posts[1].String()}; !slices.Equal(got, []string{"#plans (in channel)\nbefore", "#roadmap (in channel)\nafter"}) {
		t.Errorf("rendered posts = %q", got)
	}

	if err := srv.ArchiveChannel(ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("late", false)); slackErr(err) != "is_archived" {
		t.Errorf("post to archived: err = %v", err)
	}
	if h, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch.ID}); err != nil || len(h.Messages) != 2 {
		t.Errorf("history of the archived channel = %+v, %v; want its 2 messages", h, err)
	}
	if err := srv.ArchiveChannel("C0NOPE"); err == nil {
		t.Error("archiving an unknown channel worked")
	}
	for _, bad := range []slacktest.Channel{{ID: slacktest.GeneralID, Name: "dup"}, {Name: "random"}, {ID: "C0X"}, {ID: "D0X", Name: "dm"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddChannel(%+v) did not panic", bad)
				}
			}()
			srv.AddChannel(bad)
		}()
	}
}

func TestUsersList(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOptions{noClient: true, server: []slacktest.Option{
		slacktest.WithUser(slacktest.User{ID: "U0GONE", Name: "gone", RealName: "Gone Away", Deleted: true}),
		slacktest.WithUser(slacktest.User{ID: "U0KENJI", Name: "kenji", RealName: "Kenji Sato", DisplayName: "Kenji", TZ: "Asia/Tokyo"}),
	}})
	want := []string{slacktest.DefaultBotUserID, slacktest.AdminID, slacktest.MemberID, "U0GONE", "U0KENJI"}
	for _, limit := range []int{0, 1, 2, 5, 10} {
		got, err := b.api.GetUsersContext(t.Context(), slack.GetUsersOptionLimit(limit))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, u := range got {
			ids = append(ids, u.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("limit %d: users %v, want %v", limit, ids, want)
		}
	}
	p := b.api.GetUsersPaginated(slack.GetUsersOptionLimit(2))
	p, err := p.Next(t.Context())
	if err != nil || len(p.Users) != 2 || p.Cursor == "" {
		t.Fatalf("first page: %d users, cursor %q, %v", len(p.Users), p.Cursor, err)
	}
	got, err := b.api.GetUsersContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	bot, gone, kenji := got[0], got[3], got[4]
	if !bot.IsBot || bot.Profile.BotID != slacktest.DefaultBotID || bot.Profile.ApiAppID != slacktest.DefaultAppID {
		t.Errorf("bot = %+v", bot)
	}
	if !gone.Deleted {
		t.Errorf("deleted user = %+v", gone)
	}
	if kenji.Profile.DisplayName != "Kenji" || kenji.Profile.RealName != "Kenji Sato" || kenji.TZ != "Asia/Tokyo" || kenji.TZOffset != 9*3600 ||
		kenji.Profile.Image48 == "" || kenji.Profile.Image72 == "" || kenji.Locale != "en-US" || kenji.IsBot {
		t.Errorf("kenji = %+v", kenji)
	}
	if admin := got[1]; admin.Profile.DisplayName != "admin" || !admin.IsAdmin {
		t.Errorf("admin = %+v", admin)
	}
	if _, err := b.api.GetUsersContext(t.Context(), slack.GetUsersOptionCursor("bm9wZQ==")); slackErr(err) != "invalid_cursor" {
		t.Errorf("bad cursor: err = %v", err)
	}
}
