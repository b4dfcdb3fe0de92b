package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SlashCommand is a slash command a user types. UserID defaults to
// MemberID and ChannelID to GeneralID.
type SlashCommand struct {
	Command   string // with the slash: "/call"
	Text      string
	UserID    string
	ChannelID string
}

// MessageShortcut is a message shortcut a user picks from a message's menu.
// UserID defaults to MemberID and ChannelID to GeneralID. With MessageTS of
// a message the server knows (the app's, and those sent with Event), the
// shortcut is on that message; otherwise on a message of MessageText by
// MessageUser (default: the user) with that ts, or a new one.
type MessageShortcut struct {
	CallbackID  string
	UserID      string
	ChannelID   string
	MessageTS   string
	MessageText string
	MessageUser string
}

// BlockAction is a click on an interactive element (a button, a select) of
// a message the server knows. It clicks the newest message that has an
// element with ActionID (and Value, if given), in ChannelID and with
// MessageTS when those are set. BlockID, Value and the element's type and
// label are filled from that message. UserID defaults to the user who sees
// an ephemeral message, else to MemberID.
type BlockAction struct {
	ActionID  string
	BlockID   string
	Value     string
	UserID    string
	ChannelID string
	MessageTS string
}

// EventOption changes the envelope Event sends.
type EventOption func(*eventConfig)

type eventConfig struct {
	id   string
	time time.Time
}

// EventID sets the event_id (default a new "Ev…").
func EventID(id string) EventOption { return func(c *eventConfig) { c.id = id } }

// EventTime sets the event_time (default now).
func EventTime(t time.Time) EventOption { return func(c *eventConfig) { c.time = t } }

// teamJSON and the other small shapes below are the parts of Slack's
// payloads that the fake fills (https://api.slack.com/reference/interaction-payloads).
type teamJSON struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

type userRefJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	TeamID   string `json:"team_id"`
}

type channelRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// lookupLocked checks a request's user and channel. s.mu must be held.
func (s *Server) lookupLocked(userID, channelID string) (*User, *channel, error) {
	if userID == "" {
		userID = MemberID
	}
	if channelID == "" {
		channelID = GeneralID
	}
	u, ok := s.users[userID]
	if !ok {
		return nil, nil, fmt.Errorf("slacktest: unknown user %q", userID)
	}
	ch, ok := s.channels[channelID]
	if !ok {
		if dmUser, isDM := userOfDM(channelID); isDM && dmUser == userID {
			var err error
			if ch, err = s.resolveLocked(channelID); err != nil {
				return nil, nil, fmt.Errorf("slacktest: open DM %q: %w", channelID, err)
			}
		} else {
			return nil, nil, fmt.Errorf("slacktest: unknown channel %q", channelID)
		}
	}
	return u, ch, nil
}

// requestName is the channel_name Slack sends with a request.
func (c *channel) requestName() string {
	switch {
	case c.im:
		return "directmessage"
	case c.IsPrivate:
		return "privategroup"
	}
	return c.Name
}

func (s *Server) userRef(u *User) userRefJSON {
	return userRefJSON{ID: u.ID, Username: u.Name, Name: u.Name, TeamID: s.cfg.team.ID}
}

func (s *Server) teamRef() teamJSON { return teamJSON{ID: s.cfg.team.ID, Domain: s.cfg.team.Domain} }

// actionTS returns an action_ts: the time as "seconds.micros".
func actionTS(t time.Time) string {
	us := t.UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// SlashCommand delivers a slash command as Socket Mode does: a
// slash_commands envelope whose payload holds the command's fields (all
// strings, as Slack sends them) with a fresh trigger_id and response_url,
// and accepts_response_payload true. It waits for an open connection until
// ctx is done, and returns once the envelope is written.
func (s *Server) SlashCommand(ctx context.Context, cmd SlashCommand) (Envelope, error) {
	if !strings.HasPrefix(cmd.Command, "/") {
		return Envelope{}, fmt.Errorf("slacktest: slash command %q must start with /", cmd.Command)
	}
	s.mu.Lock()
	u, ch, err := s.lookupLocked(cmd.UserID, cmd.ChannelID)
	if err != nil {
		s.mu.Unlock()
		return Envelope{}, err
	}
	payload := map[string]string{
		"token":                 s.verifier,
		"team_id":               s.cfg.team.ID,
		"team_domain":           s.cfg.team.Domain,
		"channel_id":            ch.ID,
		"channel_name":          ch.requestName(),
		"user_id":               u.ID,
		"user_name":             u.Name,
		"command":               cmd.Command,
		"text":                  cmd.Text,
		"api_app_id":            s.cfg.bot.AppID,
		"is_enterprise_install": "false",
		"response_url":          s.newResponseURLLocked(ch.ID, u.ID, nil),
		"trigger_id":            s.newTriggerLocked(u.ID),
	}
	e, err := s.newEnvelopeLocked(TypeSlashCommands, payload, true)
	if err == nil {
		e.channel, e.user = ch.ID, u.ID
	}
	s.mu.Unlock()
	if err != nil {
		return Envelope{}, err
	}
	return s.send(ctx, e)
}

// Event delivers an Events API event. event is the inner event, a map or a
// struct that marshals to a JSON object with a "type", such as
//
//	map[string]any{"type": "app_mention", "user": slacktest.MemberID,
//		"text": "<@U0BOT> help", "channel": slacktest.GeneralID}
//
// The server fills event_ts (and ts for messages and mentions) when absent,
// wraps the event in an event_callback (token, team_id, api_app_id,
// event_id, event_time, authorizations) and sends it as an events_api
// envelope with retry_attempt 0, whether or not the bot is in the channel.
//
// A message (of no subtype, or bot_message, thread_broadcast, me_message or
// file_share) or a mention becomes part of its channel's history, unless
// the channel already has a message with its ts, so that MessageShortcut
// and the history methods find it. Event does not apply message_changed or
// message_deleted: EditUserMessage and DeleteUserMessage change history and
// send those.
func (s *Server) Event(ctx context.Context, event any, opts ...EventOption) (Envelope, error) {
	raw, err := json.Marshal(event)
	if err != nil {
		return Envelope{}, fmt.Errorf("slacktest: marshal event: %w", err)
	}
	var inner map[string]json.RawMessage
	var typ string
	if json.Unmarshal(raw, &inner) != nil || json.Unmarshal(inner["type"], &typ) != nil || typ == "" {
		return Envelope{}, fmt.Errorf("slacktest: event must be a JSON object with a type, got %s", raw)
	}
	str := func(key string) string {
		var v string
		_ = json.Unmarshal(inner[key], &v) // absent or not a string: ""
		return v
	}

	s.mu.Lock()
	ts := s.nextTSLocked()
	if str("event_ts") == "" {
		inner["event_ts"] = jsonString(ts)
	}
	if (typ == "message" || typ == "app_mention") && str("ts") == "" {
		inner["ts"] = jsonString(str("event_ts"))
	}
	if typ == "app_mention" || (typ == "message" && inHistory(str("subtype"))) {
		m := &message{channel: str("channel"), ts: str("ts"), threadTS: str("thread_ts"), user: str("user"), text: str("text"), botID: str("bot_id")}
		if typ == "message" {
			m.subtype = str("subtype")
		}
		if blocks, err := validBlocks(inner["blocks"]); err == nil {
			m.blocks = blocks
		}
		s.rememberLocked(m)
	}
	e, err := s.eventEnvelopeLocked(inner, opts)
	s.mu.Unlock()
	if err != nil {
		return Envelope{}, err
	}
	return s.send(ctx, e)
}

// inHistory reports whether Event adds a message of this subtype to
// history: messages people and apps post do, hidden ones
// (message_changed, message_deleted…) and channel notices do not.
func inHistory(subtype string) bool {
	switch subtype {
	case "", "bot_message", "thread_broadcast", "me_message", "file_share":
		return true
	}
	return false
}

// eventEnvelopeLocked wraps an inner event in an event_callback and
// registers its envelope. s.mu must be held.
func (s *Server) eventEnvelopeLocked(inner any, opts []EventOption) (*envelope, error) {
	var cfg eventConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.id == "" {
		cfg.id = newID("Ev")
	}
	if cfg.time.IsZero() {
		cfg.time = s.now()
	}
	payload := map[string]any{
		"token":      s.verifier,
		"team_id":    s.cfg.team.ID,
		"api_app_id": s.cfg.bot.AppID,
		"event":      inner,
		"type":       "event_callback",
		"event_id":   cfg.id,
		"event_time": cfg.time.Unix(),
		"authorizations": []map[string]any{{
			"enterprise_id":         nil,
			"team_id":               s.cfg.team.ID,
			"user_id":               s.cfg.bot.UserID,
			"is_bot":                true,
			"is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + randomAlnum(40),
	}
	return s.newEnvelopeLocked(TypeEventsAPI, payload, false)
}

func jsonString(v string) json.RawMessage {
	b, _ := json.Marshal(v) // a string always marshals
	return b
}

// Redeliver sends an envelope's payload again in a new envelope with
// retry_attempt one higher and retry_reason "timeout", as Slack does when it
// did not see an ack in time. For an event the event_id stays the same.
// Slack may retry on any of the app's connections; the fake picks another
// connection than the original's whenever one is open, so a test with
// several replicas sees the retry reach a replica that did not see the
// first delivery (Envelope.Conn says which).
func (s *Server) Redeliver(ctx context.Context, env Envelope) (Envelope, error) {
	s.mu.Lock()
	orig, ok := s.envelopes[env.ID]
	if !ok {
		s.mu.Unlock()
		return Envelope{}, fmt.Errorf("slacktest: redeliver: unknown envelope %q", env.ID)
	}
	e := &envelope{
		id: newUUID(), typ: orig.typ, payload: orig.payload, acceptsResp: orig.acceptsResp,
		retryAttempt: orig.retryAttempt + 1, retryReason: "timeout",
		channel: orig.channel, user: orig.user, avoid: orig.conn,
	}
	s.envelopes[e.id] = e
	s.mu.Unlock()
	return s.send(ctx, e)
}

// MessageShortcut delivers a message shortcut as an interactive envelope
// with a message_action payload.
func (s *Server) MessageShortcut(ctx context.Context, sc MessageShortcut) (Envelope, error) {
	if sc.CallbackID == "" {
		return Envelope{}, fmt.Errorf("slacktest: message shortcut needs a callback ID")
	}
	s.mu.Lock()
	u, ch, err := s.lookupLocked(sc.UserID, sc.ChannelID)
	if err != nil {
		s.mu.Unlock()
		return Envelope{}, err
	}
	var m *message
	if sc.MessageTS != "" {
		m = s.findMessageLocked(ch.ID, sc.MessageTS)
	}
	if m == nil {
		author := sc.MessageUser
		if author == "" {
			author = u.ID
		}
		ts := sc.MessageTS
		if ts == "" {
			ts = s.nextTSLocked()
		}
		m = &message{channel: ch.ID, ts: ts, user: author, text: sc.MessageText}
		s.rememberLocked(m)
	}
	now := s.now()
	msg := map[string]any{"type": "message", "user": m.user, "text": m.text, "ts": m.ts}
	if m.threadTS != "" {
		msg["thread_ts"] = m.threadTS
	}
	if m.blocks != nil {
		msg["blocks"] = m.blocks
	}
	payload := map[string]any{
		"type":                  "message_action",
		"token":                 s.verifier,
		"action_ts":             actionTS(now),
		"team":                  s.teamRef(),
		"user":                  s.userRef(u),
		"channel":               channelRefJSON{ID: ch.ID, Name: ch.requestName()},
		"is_enterprise_install": false,
		"enterprise":            nil,
		"callback_id":           sc.CallbackID,
		"trigger_id":            s.newTriggerLocked(u.ID),
		"response_url":          s.newResponseURLLocked(ch.ID, u.ID, nil),
		"message_ts":            m.ts,
		"message":               msg,
	}
	e, err := s.newEnvelopeLocked(TypeInteractive, payload, false)
	s.mu.Unlock()
	if err != nil {
		return Envelope{}, err
	}
	return s.send(ctx, e)
}

// element is an interactive element found in a message's blocks.
type element struct {
	blockID string
	typ     string
	text    json.RawMessage
	value   string
}

// findElement looks for the element with actionID (and value, if not
// empty) in a message's blocks: in actions blocks and section accessories.
func findElement(blocks json.RawMessage, actionID, value string) (element, bool) {
	var bs []struct {
		Type      string            `json:"type"`
		BlockID   string            `json:"block_id"`
		Elements  []json.RawMessage `json:"elements"`
		Accessory json.RawMessage   `json:"accessory"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return element{}, false
	}
	for _, b := range bs {
		candidates := b.Elements
		if b.Accessory != nil {
			candidates = append(candidates, b.Accessory)
		}
		for _, raw := range candidates {
			var el struct {
				Type     string          `json:"type"`
				ActionID string          `json:"action_id"`
				Text     json.RawMessage `json:"text"`
				Value    string          `json:"value"`
			}
			if json.Unmarshal(raw, &el) != nil || el.ActionID != actionID {
				continue
			}
			if value != "" && el.Value != "" && el.Value != value {
				continue // a select has no value of its own: any value is an option
			}
			return element{blockID: b.BlockID, typ: el.Type, text: el.Text, value: el.Value}, true
		}
	}
	return element{}, false
}

// BlockAction delivers a click as an interactive envelope with a
// block_actions payload.
func (s *Server) BlockAction(ctx context.Context, a BlockAction) (Envelope, error) {
	if a.ActionID == "" {
		return Envelope{}, fmt.Errorf("slacktest: block action needs an action ID")
	}
	s.mu.Lock()
	var m *message
	var el element
	for i := len(s.messages) - 1; i >= 0 && m == nil; i-- {
		c := s.messages[i]
		if c.deleted || c.blocks == nil || (a.ChannelID != "" && c.channel != a.ChannelID) || (a.MessageTS != "" && c.ts != a.MessageTS) {
			continue
		}
		if found, ok := findElement(c.blocks, a.ActionID, a.Value); ok {
			m, el = c, found
		}
	}
	if m == nil {
		s.mu.Unlock()
		return Envelope{}, fmt.Errorf("slacktest: block action: no message has an element with action_id %q (value %q)", a.ActionID, a.Value)
	}
	userID := a.UserID
	if userID == "" && m.ephemeralTo != "" {
		userID = m.ephemeralTo
	}
	u, ch, err := s.lookupLocked(userID, m.channel)
	if err != nil {
		s.mu.Unlock()
		return Envelope{}, err
	}
	if m.ephemeralTo != "" && m.ephemeralTo != u.ID {
		s.mu.Unlock()
		return Envelope{}, fmt.Errorf("slacktest: block action: message %s is only visible to %s, not %s", m.ts, m.ephemeralTo, u.ID)
	}
	if a.BlockID == "" {
		a.BlockID = el.blockID
	}
	if a.Value == "" {
		a.Value = el.value
	}
	now := s.now()
	action := map[string]any{
		"action_id": a.ActionID,
		"block_id":  a.BlockID,
		"type":      el.typ,
		"action_ts": actionTS(now),
	}
	if el.text != nil {
		action["text"] = el.text
	}
	if strings.HasSuffix(el.typ, "_select") {
		action["selected_option"] = map[string]any{
			"text":  map[string]any{"type": "plain_text", "text": a.Value},
			"value": a.Value,
		}
	} else {
		action["value"] = a.Value
	}
	msg := map[string]any{
		"type": "message", "user": m.user, "text": m.text, "ts": m.ts, "team": s.cfg.team.ID,
	}
	if m.user == s.cfg.bot.UserID {
		msg["bot_id"] = s.cfg.bot.BotID
		msg["app_id"] = s.cfg.bot.AppID
	}
	if m.threadTS != "" {
		msg["thread_ts"] = m.threadTS
	}
	msg["blocks"] = m.blocks
	payload := map[string]any{
		"type":       "block_actions",
		"user":       s.userRef(u),
		"api_app_id": s.cfg.bot.AppID,
		"token":      s.verifier,
		"container": map[string]any{
			"type":         "message",
			"message_ts":   m.ts,
			"channel_id":   ch.ID,
			"is_ephemeral": m.ephemeralTo != "",
		},
		"trigger_id":            s.newTriggerLocked(u.ID),
		"team":                  s.teamRef(),
		"enterprise":            nil,
		"is_enterprise_install": false,
		"channel":               channelRefJSON{ID: ch.ID, Name: ch.requestName()},
		"message":               msg,
		"state":                 map[string]any{"values": map[string]any{}},
		"response_url":          s.newResponseURLLocked(ch.ID, u.ID, m),
		"actions":               []any{action},
	}
	if m.ephemeralTo != "" {
		// Slack sends no message object for ephemeral messages, only the container.
		delete(payload, "message")
	}
	e, err := s.newEnvelopeLocked(TypeInteractive, payload, false)
	s.mu.Unlock()
	if err != nil {
		return Envelope{}, err
	}
	return s.send(ctx, e)
}
