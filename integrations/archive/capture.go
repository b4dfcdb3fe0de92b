package archive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/townhall/townhall/slackapp"
)

// event captures one Events API event.
func (i *Integration) event(ctx context.Context, r *slackapp.Request) error {
	if r.Event == nil {
		return nil
	}
	switch ev := r.Event.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		return i.message(ctx, ev)
	case *slackevents.ChannelRenameEvent:
		return i.refreshChannel(ctx, ev.Channel.ID)
	case *slackevents.ChannelArchiveEvent:
		return i.refreshChannel(ctx, ev.Channel)
	case *slackevents.ChannelUnarchiveEvent:
		return i.refreshChannel(ctx, ev.Channel)
	case *slackevents.ChannelCreatedEvent:
		return i.created(ctx, ev.Channel.ID)
	case *slackevents.UserChangeEvent:
		u := ev.User
		err := i.a.PutUser(ctx, User{ID: u.ID, Name: u.Name, RealName: u.RealName, DisplayName: u.Profile.DisplayName,
			Avatar: u.Profile.Image48, Bot: u.IsBot, Deleted: u.Deleted})
		if err == nil {
			i.knowUser(u.ID)
			i.keepAvatarLive(slack.User{ID: u.ID, IsBot: u.IsBot,
				Profile: slack.UserProfile{Image192: u.Profile.Image192, Image512: u.Profile.Image512}})
		}
		return err
	}
	return nil
}

// message stores, edits or deletes a message of a public channel, and
// drops everything else.
func (i *Integration) message(ctx context.Context, ev *slackevents.MessageEvent) error {
	if ev.ChannelType != "" && ev.ChannelType != "channel" {
		i.m.dropped.Inc()
		return nil
	}
	public, err := i.isPublic(ctx, ev.Channel)
	if err != nil {
		return fmt.Errorf("archive: message in %s: %w", ev.Channel, err)
	}
	if !public {
		i.m.dropped.Inc()
		return nil
	}
	var m Message
	switch ev.SubType {
	case "message_deleted":
		ts := ev.DeletedTimeStamp
		if ts == "" && ev.PreviousMessage != nil {
			ts = ev.PreviousMessage.Timestamp
		}
		if err := i.a.Delete(ctx, ev.Channel, ts); err != nil {
			return err
		}
		i.forgetMessageFiles(ctx, ev.Channel, ts) // files_keep.go
		return nil
	case "message_replied", "message_metadata_posted", "message_metadata_updated", "message_metadata_deleted":
		return nil // Slack's notices about other messages
	case "message_changed":
		if ev.Message == nil {
			return nil
		}
		m = FromSlack(ev.Channel, *ev.Message)
		if m.Edited == "" && ev.Message.Edited == nil && ev.PreviousMessage != nil && ev.PreviousMessage.Text == ev.Message.Text {
			m.Edited = "" // an unfurl or reaction update, not an edit
		}
	default:
		if ev.Message != nil {
			m = FromSlack(ev.Channel, *ev.Message)
		}
		if m.TS == "" { // parsed without the nested copy
			m = Message{Channel: ev.Channel, TS: ev.TimeStamp, ThreadTS: ev.ThreadTimeStamp, User: ev.User, Text: ev.Text,
				Subtype: ev.SubType, BotID: ev.BotID, Username: ev.Username}
		}
	}
	switch m.Subtype {
	case "channel_topic", "channel_purpose", "channel_name":
		if err := i.refreshChannel(ctx, ev.Channel); err != nil {
			i.log.Warn("archive: channel details not refreshed", "channel", ev.Channel, "error", err)
		}
	}
	if _, err := i.a.PutMessages(ctx, []Message{m}); err != nil {
		return err
	}
	i.m.captured.WithLabelValues("live").Inc()
	i.keepLive(m) // files_keep.go: fetched by a worker, not here
	if m.User != "" {
		if err := i.ensureUser(ctx, m.User); err != nil {
			i.log.Warn("archive: user not looked up", "user", m.User, "error", err)
		}
	}
	return i.a.SetState(ctx, StateLastCapture, i.now().UTC().Format(time.RFC3339))
}

// FromSlack converts a message as the Web API, the Events API and Slack
// exports describe it.
func FromSlack(channel string, s slack.Msg) Message {
	m := Message{
		Channel: channel, TS: s.Timestamp, ThreadTS: s.ThreadTimestamp, User: s.User, Username: s.Username,
		BotID: s.BotID, Subtype: s.SubType, Text: s.Text,
	}
	if m.Username == "" && s.BotProfile != nil {
		m.Username = s.BotProfile.Name
	}
	if s.Edited != nil {
		m.Edited = s.Edited.Timestamp
	}
	for _, f := range s.Files {
		m.Files = append(m.Files, File{ID: f.ID, Name: f.Name, Title: f.Title, Mimetype: f.Mimetype, Permalink: f.Permalink})
	}
	for _, r := range s.Reactions {
		m.Reactions = append(m.Reactions, Reaction{Name: r.Name, Count: r.Count, Users: r.Users})
	}
	if m.Text == "" && len(s.Attachments) > 0 { // an integration's post: keep what it said
		for _, a := range s.Attachments {
			if t := firstOf(a.Fallback, a.Text, a.Pretext, a.Title); t != "" {
				m.Text += t + "\n"
			}
		}
	}
	return m
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// isPublic reports whether a channel is a public channel, asking
// conversations.info once per channel and remembering the answer. A
// channel that cannot be looked up is not public.
func (i *Integration) isPublic(ctx context.Context, id string) (bool, error) {
	i.publicMu.Lock()
	public, ok := i.public[id]
	i.publicMu.Unlock()
	if ok {
		return public, nil
	}
	var ch *slack.Channel
	err := i.pace.Call(ctx, func() (err error) {
		ch, err = i.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		return err
	})
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "channel_not_found" || se.Err == "method_not_supported_for_channel_type") {
			i.remember(id, false)
			return false, nil
		}
		return false, fmt.Errorf("conversations.info: %w", err)
	}
	public = isPublicChannel(ch)
	i.remember(id, public)
	if public {
		if err := i.a.PutChannel(ctx, channelOf(ch)); err != nil {
			return false, err
		}
	}
	return public, nil
}

func (i *Integration) remember(id string, public bool) {
	i.publicMu.Lock()
	defer i.publicMu.Unlock()
	i.public[id] = public
}

func isPublicChannel(ch *slack.Channel) bool {
	return ch != nil && !ch.IsPrivate && !ch.IsIM && !ch.IsMpIM && !ch.IsGroup
}

func channelOf(ch *slack.Channel) Channel {
	return Channel{ID: ch.ID, Name: ch.Name, Topic: ch.Topic.Value, Purpose: ch.Purpose.Value,
		Created: time.Unix(int64(ch.Created), 0).UTC(), Archived: ch.IsArchived}
}

// refreshChannel stores a public channel's current name, topic and state.
func (i *Integration) refreshChannel(ctx context.Context, id string) error {
	var ch *slack.Channel
	err := i.pace.Call(ctx, func() (err error) {
		ch, err = i.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id})
		return err
	})
	if err != nil {
		return fmt.Errorf("archive: channel %s: conversations.info: %w", id, err)
	}
	public := isPublicChannel(ch)
	i.remember(id, public)
	if !public {
		return nil
	}
	return i.a.PutChannel(ctx, channelOf(ch))
}

// created archives a new channel's details and joins it when AutoJoin is on.
func (i *Integration) created(ctx context.Context, id string) error {
	if err := i.refreshChannel(ctx, id); err != nil {
		return err
	}
	if !i.cfg.AutoJoin {
		return nil
	}
	if _, _, _, err := i.api.JoinConversationContext(ctx, id); err != nil {
		return fmt.Errorf("archive: join new channel %s: %w", id, err)
	}
	i.log.Info("archive joined a new channel", "channel", id)
	return nil
}

// ensureUser looks a user up with users.info the first time they are seen.
func (i *Integration) ensureUser(ctx context.Context, id string) error {
	i.usersMu.Lock()
	known := i.users[id]
	i.usersMu.Unlock()
	if known {
		return nil
	}
	if u, ok, err := i.a.User(ctx, id); err != nil {
		return err
	} else if ok && u.Name != "" {
		i.knowUser(id)
		return nil
	}
	su, err := i.api.GetUserInfoContext(ctx, id)
	if err != nil {
		return fmt.Errorf("users.info: %w", err)
	}
	if err := i.a.PutUser(ctx, UserFromSlack(*su)); err != nil {
		return err
	}
	i.knowUser(id)
	i.keepAvatarLive(*su)
	return nil
}

func (i *Integration) knowUser(id string) {
	i.usersMu.Lock()
	defer i.usersMu.Unlock()
	i.users[id] = true
}

// UserFromSlack converts a users.info or users.list user.
func UserFromSlack(u slack.User) User {
	return User{ID: u.ID, Name: u.Name, RealName: firstOf(u.Profile.RealName, u.RealName),
		DisplayName: u.Profile.DisplayName, Avatar: u.Profile.Image48, Bot: u.IsBot, Deleted: u.Deleted}
}
