package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Message is a message in a conversation, as people (or other apps) post
// them. AddMessage and PostUserMessage read the fields up to Files and
// ignore the rest; the methods that return a Message fill them all.
type Message struct {
	Channel  string // the conversation: "C…", or "D…" for the bot's DM with a user; default GeneralID
	User     string // the author; default MemberID, or the other party in a DM
	Text     string
	TS       string // the message's ts; empty: the next one, by the server's clock
	ThreadTS string // the parent's ts, for a reply in a thread
	// Subtype is empty for a message a person typed. Others as Slack sets
	// them: "bot_message" (another app's message: set BotID, User may be
	// empty), "thread_broadcast" (a reply also sent to the channel),
	// "me_message", "file_share" (with Files).
	Subtype string
	BotID   string          // the "B…" of the app that posted a bot_message
	Blocks  json.RawMessage // a Block Kit array, nil for none
	Files   []File

	// Set by the server.
	Edited      *Edited    // who edited the message and when; nil if never
	Reactions   []Reaction // in the order they were first added
	ReplyCount  int        // for a thread's parent: its replies that were not deleted
	ReplyUsers  []string   // for a thread's parent: who replied, in order of first reply
	LatestReply string     // for a thread's parent: the newest reply's ts
}

// Edited records the last edit of a message.
type Edited struct {
	User string
	TS   string // when the edit happened, as a message ts
}

// Reaction is one emoji on a message and who added it.
type Reaction struct {
	Name  string // without colons: "thumbsup"
	Users []string
}

// File is a file shared in a message (https://docs.slack.dev/reference/objects/file-object).
// The server sets ID ("F…") when it is empty, and the URLs.
type File struct {
	ID       string
	Name     string // "notes.pdf"
	Title    string
	Mimetype string // "application/pdf"
	Filetype string // "pdf"
	Size     int
}

// AddMessage puts a message into a conversation's history, as if a user had
// posted it while the app was not listening: no event is sent (see
// PostUserMessage for that). A reply (ThreadTS set) updates its parent's
// reply_count, reply_users and latest_reply. AddMessage returns the message
// as stored, TS filled in. A TS later than every one the server handed out
// moves the server's timestamps past it, so that they stay unique.
//
// AddMessage is for setting up a test: it panics if the message cannot be
// posted (unknown channel or user, archived channel, a TS that does not
// parse or is taken, invalid blocks). PostUserMessage returns those as
// errors.
func (s *Server) AddMessage(m Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, _, err := s.addMessageLocked(m)
	if err != nil {
		panic(err.Error())
	}
	return s.publicLocked(msg)
}

// Message returns a message of a conversation's history as it is now, or
// false if there is none with that ts (or it was deleted). Ephemeral
// messages are not part of history.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.historyMessageLocked(channel, ts)
	if m == nil || m.deleted {
		return Message{}, false
	}
	return s.publicLocked(m), true
}

// EditMessage changes a message's text as its author would, setting its
// edited field, without sending an event (see EditUserMessage).
func (s *Server) EditMessage(channel, ts, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, _, err := s.liveMessageLocked("edit", channel, ts)
	if err != nil {
		return Message{}, err
	}
	s.editLocked(m, text)
	return s.publicLocked(m), nil
}

// DeleteMessage deletes a message without sending an event (see
// DeleteUserMessage). It leaves history; a thread's parent that still has
// replies stays as a tombstone ("This message was deleted."), as in Slack.
func (s *Server) DeleteMessage(channel, ts string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, _, err := s.liveMessageLocked("delete", channel, ts)
	if err != nil {
		return err
	}
	m.deleted = true
	return nil
}

// AddReaction adds a user's emoji reaction (name with or without colons) to
// a message without sending an event (see AddUserReaction). Like
// reactions.add, it fails with already_reacted if the user already added
// that one.
func (s *Server) AddReaction(channel, ts, user, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, err := s.reactLocked(channel, ts, user, name)
	return err
}

// AddChannel adds a channel to the workspace and returns it, with a new
// "C…" ID if ID is empty. Like AddMessage it is for setting up a test and
// panics on a taken ID or name, an empty name, or an ID starting with "D"
// (the server's DM IDs).
func (s *Server) AddChannel(ch Channel) Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch.ID == "" {
		ch.ID = newID("C")
	}
	switch {
	case strings.HasPrefix(ch.ID, "D"):
		panic(fmt.Sprintf("slacktest: add channel %q: D… IDs are for direct messages", ch.ID))
	case s.channels[ch.ID] != nil:
		panic(fmt.Sprintf("slacktest: add channel %q: the ID is taken", ch.ID))
	case ch.Name == "":
		panic(fmt.Sprintf("slacktest: add channel %q: it needs a name", ch.ID))
	case s.channelNamedLocked(ch.Name) != nil:
		panic(fmt.Sprintf("slacktest: add channel %q: the name %q is taken", ch.ID, ch.Name))
	}
	s.channels[ch.ID] = &channel{Channel: ch, created: s.now().Unix()}
	s.channelOrder = append(s.channelOrder, ch.ID)
	s.dir = s.dir.withChannel(ch.ID, ch.Name)
	s.notifyLocked()
	return ch
}

// RenameChannel renames a channel; conversations.info and
// conversations.list then show the old name in previous_names. Posts made
// before keep the old name when rendered.
func (s *Server) RenameChannel(id, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[id]
	switch {
	case !ok || ch.im:
		return fmt.Errorf("slacktest: rename channel %q: %w", id, apiError("channel_not_found"))
	case name == "":
		return fmt.Errorf("slacktest: rename channel %q: %w", id, apiError("invalid_name_required"))
	case name == ch.Name:
		return nil
	case s.channelNamedLocked(name) != nil:
		return fmt.Errorf("slacktest: rename channel %q to %q: %w", id, name, apiError("name_taken"))
	}
	ch.previousNames = append([]string{ch.Name}, ch.previousNames...)
	ch.Name = name
	s.dir = s.dir.withChannel(id, name)
	s.notifyLocked()
	return nil
}

// ArchiveChannel archives a channel: it keeps its history and members, and
// refuses new messages with is_archived.
func (s *Server) ArchiveChannel(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[id]
	if !ok || ch.im {
		return fmt.Errorf("slacktest: archive channel %q: %w", id, apiError("channel_not_found"))
	}
	ch.IsArchived = true
	s.notifyLocked()
	return nil
}

// PostUserMessage is AddMessage followed by the message event Slack sends
// the app (https://docs.slack.dev/reference/events/message): the message's
// fields plus channel, event_ts and channel_type ("channel", "group" for a
// private channel, "im" for a DM). As with a bot token's event
// subscriptions, Slack sends events only from conversations the bot is in:
// for any other, the message is added and the returned Envelope is zero
// (its ID empty). Like Event, it waits for an open connection until ctx is
// done.
func (s *Server) PostUserMessage(ctx context.Context, m Message, opts ...EventOption) (Message, Envelope, error) {
	s.mu.Lock()
	msg, ch, err := s.addMessageLocked(m)
	if err != nil {
		s.mu.Unlock()
		return Message{}, Envelope{}, err
	}
	out := s.publicLocked(msg)
	var e *envelope
	if ch.delivers() {
		ev := s.messageJSONLocked(msg)
		ev["channel"] = ch.ID
		ev["event_ts"] = msg.ts
		ev["channel_type"] = ch.channelType()
		e, err = s.eventEnvelopeLocked(ev, opts)
	}
	s.mu.Unlock()
	env, err := s.sendIf(ctx, e, err)
	return out, env, err
}

// EditUserMessage is EditMessage followed by the message_changed event
// (https://docs.slack.dev/reference/events/message/message_changed): hidden,
// with the message as it is now (edited set) in message and as it was in
// previous_message. Like PostUserMessage it sends nothing for a
// conversation the bot is not in.
func (s *Server) EditUserMessage(ctx context.Context, channel, ts, text string, opts ...EventOption) (Message, Envelope, error) {
	s.mu.Lock()
	m, ch, err := s.liveMessageLocked("edit", channel, ts)
	if err != nil {
		s.mu.Unlock()
		return Message{}, Envelope{}, err
	}
	prev := s.messageJSONLocked(m)
	s.editLocked(m, text)
	out := s.publicLocked(m)
	var e *envelope
	if ch.delivers() {
		e, err = s.eventEnvelopeLocked(map[string]any{
			"type":             "message",
			"subtype":          "message_changed",
			"hidden":           true,
			"channel":          ch.ID,
			"channel_type":     ch.channelType(),
			"ts":               m.edited.TS,
			"event_ts":         m.edited.TS,
			"message":          s.messageJSONLocked(m),
			"previous_message": prev,
		}, opts)
	}
	s.mu.Unlock()
	env, err := s.sendIf(ctx, e, err)
	return out, env, err
}

// DeleteUserMessage is DeleteMessage followed by the message_deleted event
// (https://docs.slack.dev/reference/events/message/message_deleted): hidden,
// with deleted_ts and the message as it was in previous_message. Like
// PostUserMessage it sends nothing for a conversation the bot is not in.
func (s *Server) DeleteUserMessage(ctx context.Context, channel, ts string, opts ...EventOption) (Envelope, error) {
	s.mu.Lock()
	m, ch, err := s.liveMessageLocked("delete", channel, ts)
	if err != nil {
		s.mu.Unlock()
		return Envelope{}, err
	}
	prev := s.messageJSONLocked(m)
	m.deleted = true
	var e *envelope
	if ch.delivers() {
		evTS := s.nextTSLocked()
		e, err = s.eventEnvelopeLocked(map[string]any{
			"type":             "message",
			"subtype":          "message_deleted",
			"hidden":           true,
			"channel":          ch.ID,
			"channel_type":     ch.channelType(),
			"ts":               evTS,
			"event_ts":         evTS,
			"deleted_ts":       m.ts,
			"previous_message": prev,
		}, opts)
	}
	s.mu.Unlock()
	return s.sendIf(ctx, e, err)
}

// AddUserReaction is AddReaction followed by the reaction_added event
// (https://docs.slack.dev/reference/events/reaction_added): user, reaction,
// item {type "message", channel, ts}, item_user (the message's author, if
// it has one) and event_ts. Like PostUserMessage it sends nothing for a
// conversation the bot is not in.
func (s *Server) AddUserReaction(ctx context.Context, channel, ts, user, name string, opts ...EventOption) (Envelope, error) {
	s.mu.Lock()
	m, ch, err := s.reactLocked(channel, ts, user, name)
	if err != nil {
		s.mu.Unlock()
		return Envelope{}, err
	}
	var e *envelope
	if ch.delivers() {
		ev := map[string]any{
			"type":     "reaction_added",
			"user":     user,
			"reaction": strings.Trim(name, ":"),
			"item":     map[string]any{"type": "message", "channel": ch.ID, "ts": m.ts},
			"event_ts": s.nextTSLocked(),
		}
		if m.user != "" {
			ev["item_user"] = m.user
		}
		e, err = s.eventEnvelopeLocked(ev, opts)
	}
	s.mu.Unlock()
	return s.sendIf(ctx, e, err)
}

// sendIf sends e if there is one and err is nil.
func (s *Server) sendIf(ctx context.Context, e *envelope, err error) (Envelope, error) {
	if err != nil || e == nil {
		return Envelope{}, err
	}
	return s.send(ctx, e)
}

// delivers reports whether Slack would send the app events from a
// conversation: its DMs, and the channels the bot is in.
func (c *channel) delivers() bool { return c.im || c.IsMember }

// channelType is the channel_type of message events
// (https://docs.slack.dev/reference/events/message.groups).
func (c *channel) channelType() string {
	switch {
	case c.im:
		return "im"
	case c.IsPrivate:
		return "group"
	}
	return "channel"
}

// channelNamedLocked finds a channel (not a DM) by name. s.mu must be held.
func (s *Server) channelNamedLocked(name string) *channel {
	for _, id := range s.channelOrder {
		if ch := s.channels[id]; !ch.im && ch.Name == name {
			return ch
		}
	}
	return nil
}

// addMessageLocked checks and records a message a person posted.
// s.mu must be held.
func (s *Server) addMessageLocked(in Message) (*message, *channel, error) {
	fail := func(format string, args ...any) (*message, *channel, error) {
		return nil, nil, fmt.Errorf("slacktest: add message to %q: "+format, append([]any{in.Channel}, args...)...)
	}
	if in.Channel == "" {
		in.Channel = GeneralID
	}
	ch, err := s.conversationLocked(in.Channel)
	if err != nil {
		return fail("%w", err)
	}
	if ch.IsArchived {
		return fail("%w", apiError("is_archived"))
	}
	if in.User == "" && in.Subtype != "bot_message" {
		in.User = MemberID
		if ch.im {
			in.User = ch.user
		}
	}
	if in.User != "" {
		if _, ok := s.users[in.User]; !ok {
			return fail("unknown user %q", in.User)
		}
		if ch.im && in.User != ch.user && in.User != s.cfg.bot.UserID {
			return fail("%s is not in the DM with %s", in.User, ch.user)
		}
	}
	if in.Subtype == "bot_message" && in.BotID == "" {
		return fail("a bot_message needs a BotID")
	}
	blocks, err := validBlocks(in.Blocks)
	if err != nil {
		return fail("%w", err)
	}
	if in.ThreadTS == in.TS {
		in.ThreadTS = ""
	}
	if in.ThreadTS != "" {
		if _, ok := parseTS(in.ThreadTS); !ok {
			return fail("thread_ts %q is not a message timestamp", in.ThreadTS)
		}
		if parent := s.historyMessageLocked(ch.ID, in.ThreadTS); parent != nil && parent.isReply() {
			in.ThreadTS = parent.threadTS // Slack threads are one level deep
		}
	} else if in.Subtype == "thread_broadcast" {
		return fail("a thread_broadcast needs a ThreadTS")
	}
	if in.TS == "" {
		in.TS = s.nextTSLocked()
	} else {
		key, ok := parseTS(in.TS)
		if !ok {
			return fail("ts %q is not a message timestamp", in.TS)
		}
		if s.historyMessageLocked(ch.ID, in.TS) != nil {
			return fail("ts %s is taken", in.TS)
		}
		s.lastTS = max(s.lastTS, key)
	}
	files := slices.Clone(in.Files)
	for i := range files {
		if files[i].ID == "" {
			files[i].ID = newID("F")
		}
	}
	m := &message{
		channel:  ch.ID,
		ts:       in.TS,
		threadTS: in.ThreadTS,
		user:     in.User,
		text:     in.Text,
		blocks:   blocks,
		subtype:  in.Subtype,
		botID:    in.BotID,
		files:    files,
	}
	if in.Subtype == "" && in.User != "" && in.User != s.cfg.bot.UserID {
		m.clientMsgID = newUUID()
	}
	s.rememberLocked(m)
	return m, ch, nil
}

// liveMessageLocked finds a message of a conversation's history that was
// not deleted, for the operation op. s.mu must be held.
func (s *Server) liveMessageLocked(op, channel, ts string) (*message, *channel, error) {
	ch, err := s.conversationLocked(channel)
	if err != nil {
		return nil, nil, fmt.Errorf("slacktest: %s message %s in %q: %w", op, ts, channel, err)
	}
	m := s.historyMessageLocked(ch.ID, ts)
	if m == nil || m.deleted {
		return nil, nil, fmt.Errorf("slacktest: %s message %s in %q: %w", op, ts, channel, apiError("message_not_found"))
	}
	return m, ch, nil
}

// editLocked changes a message's text as its author. s.mu must be held.
func (s *Server) editLocked(m *message, text string) {
	m.text = text
	m.edited = &Edited{User: m.user, TS: s.nextTSLocked()}
}

// reactLocked adds a reaction. s.mu must be held.
func (s *Server) reactLocked(channel, ts, user, name string) (*message, *channel, error) {
	m, ch, err := s.liveMessageLocked("react to", channel, ts)
	if err != nil {
		return nil, nil, err
	}
	name = strings.Trim(name, ":")
	if name == "" {
		return nil, nil, fmt.Errorf("slacktest: react to message %s in %q: %w", ts, channel, apiError("invalid_name"))
	}
	if _, ok := s.users[user]; !ok {
		return nil, nil, fmt.Errorf("slacktest: react to message %s in %q: unknown user %q", ts, channel, user)
	}
	i := slices.IndexFunc(m.reactions, func(r Reaction) bool { return r.Name == name })
	switch {
	case i < 0:
		m.reactions = append(m.reactions, Reaction{Name: name, Users: []string{user}})
	case slices.Contains(m.reactions[i].Users, user):
		return nil, nil, fmt.Errorf("slacktest: %s reacts :%s: to message %s in %q: %w", user, name, ts, channel, apiError("already_reacted"))
	default:
		m.reactions[i].Users = append(m.reactions[i].Users, user)
	}
	return m, ch, nil
}

// publicLocked copies a message out. s.mu must be held.
func (s *Server) publicLocked(m *message) Message {
	out := Message{
		Channel:  m.channel,
		User:     m.user,
		Text:     m.text,
		TS:       m.ts,
		ThreadTS: m.threadTS,
		Subtype:  m.subtype,
		BotID:    m.botID,
		Blocks:   m.blocks,
		Files:    slices.Clone(m.files),
	}
	if m.user == s.cfg.bot.UserID {
		out.BotID = s.cfg.bot.BotID
	}
	if m.edited != nil {
		e := *m.edited
		out.Edited = &e
	}
	for _, r := range m.reactions {
		out.Reactions = append(out.Reactions, Reaction{Name: r.Name, Users: slices.Clone(r.Users)})
	}
	if t, ok := s.timelines[m.channel]; ok && !m.isReply() {
		for _, r := range t.liveReplies(m.ts) {
			out.ReplyCount++
			out.LatestReply = r.ts
			if r.user != "" && !slices.Contains(out.ReplyUsers, r.user) {
				out.ReplyUsers = append(out.ReplyUsers, r.user)
			}
		}
	}
	return out
}

// withChannel returns a copy of the directory that knows a channel's name.
// Posts keep the directory of their time, so a directory is replaced, never
// changed.
func (d *directory) withChannel(id, name string) *directory {
	c := &directory{users: d.users, channels: maps.Clone(d.channels)}
	c.channels[id] = name
	return c
}
