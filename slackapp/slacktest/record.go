package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// The Method of a Post.
const (
	MethodPostMessage   = "chat.postMessage"
	MethodPostEphemeral = "chat.postEphemeral"
	MethodUpdate        = "chat.update"
	MethodResponseURL   = "response_url" // a POST to a response URL
	MethodAck           = "ack"          // a slash command's ack that carried a message
)

// Post is one message the app sent and Slack accepted, in any of the ways an
// app can send one. Posts carry the workspace's names so that Render can
// print them; compare Posts field by field, not with ==.
type Post struct {
	Method   string // MethodPostMessage, MethodPostEphemeral, MethodUpdate, MethodResponseURL or MethodAck
	Channel  string // the conversation ID; for a response URL, that of the original request
	User     string // who an ephemeral message is for
	Text     string
	ThreadTS string
	TS       string // the message's ts (for chat.update, of the message updated)
	// ResponseType is "in_channel" or "ephemeral" for MethodResponseURL and
	// MethodAck (Slack's default, "ephemeral", when the app sent none).
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	Blocks          json.RawMessage // the Block Kit array as sent, nil without blocks

	dir *directory
}

// BlockKit decodes the post's blocks.
func (p Post) BlockKit() (slack.Blocks, error) {
	var b slack.Blocks
	if len(p.Blocks) == 0 {
		return b, nil
	}
	if err := json.Unmarshal(p.Blocks, &b); err != nil {
		return b, fmt.Errorf("slacktest: decode blocks of %s post: %w", p.Method, err)
	}
	return b, nil
}

// String renders the post (see Render).
func (p Post) String() string { return Render(p) }

// Ephemeral reports whether only p.User can see the post.
func (p Post) Ephemeral() bool {
	switch p.Method {
	case MethodPostEphemeral:
		return true
	case MethodResponseURL, MethodAck:
		return p.ResponseType != "in_channel"
	}
	return false
}

// Button is a button in a post's blocks, with what BlockAction needs to
// press it.
type Button struct {
	ActionID string
	BlockID  string
	Value    string
	Text     string // the label, as Render prints it between brackets
	URL      string // a link button's address; Slack opens it and still sends the action
}

// Buttons lists the post's buttons in the order Render prints them
// (actions blocks' elements and section accessories). Buttons without an
// action_id are left out: a click on them reaches no app.
func (p Post) Buttons() []Button {
	var blocks []struct {
		Type      string            `json:"type"`
		BlockID   string            `json:"block_id"`
		Elements  []json.RawMessage `json:"elements"`
		Accessory json.RawMessage   `json:"accessory"`
	}
	if len(p.Blocks) == 0 || json.Unmarshal(p.Blocks, &blocks) != nil {
		return nil
	}
	var out []Button
	for _, b := range blocks {
		var candidates []json.RawMessage
		switch b.Type {
		case "actions":
			candidates = b.Elements
		case "section":
			if b.Accessory != nil {
				candidates = []json.RawMessage{b.Accessory}
			}
		}
		for _, raw := range candidates {
			var el struct {
				Type     string          `json:"type"`
				ActionID string          `json:"action_id"`
				Value    string          `json:"value"`
				URL      string          `json:"url"`
				Text     json.RawMessage `json:"text"`
			}
			if json.Unmarshal(raw, &el) != nil || el.Type != "button" || el.ActionID == "" {
				continue
			}
			out = append(out, Button{ActionID: el.ActionID, BlockID: b.BlockID, Value: el.Value,
				Text: textOf(el.Text, p.dir), URL: el.URL})
		}
	}
	return out
}

// View is one views.open call that Slack accepted.
type View struct {
	ID        string // "V…", as returned to the app
	TriggerID string
	UserID    string          // who the trigger ID was issued to
	Payload   json.RawMessage // the view object as sent
}

// Modal decodes the view.
func (v View) Modal() (slack.ModalViewRequest, error) {
	var m slack.ModalViewRequest
	if err := json.Unmarshal(v.Payload, &m); err != nil {
		return m, fmt.Errorf("slacktest: decode view %s: %w", v.ID, err)
	}
	return m, nil
}

// Envelope is a Socket Mode envelope the server delivered.
type Envelope struct {
	ID           string
	Type         string // "slash_commands", "events_api" or "interactive"
	Sent         time.Time
	RetryAttempt int
	Payload      json.RawMessage
	// Conn numbers the connection it was written to (from 1, in the
	// order connections opened), so a test can tell replicas apart.
	Conn int
}

// Ack is an acknowledgement the app sent for an envelope.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage // nil when the ack carried none
	Received   time.Time       // read from the socket; Received.Sub(Envelope.Sent) is the ack latency
}

// Posts returns every post the app made, in order.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// WaitPosts blocks until at least n posts were made in total and returns them
// all, or returns ctx's error (with the posts so far) when ctx is done first.
func (s *Server) WaitPosts(ctx context.Context, n int) ([]Post, error) {
	var posts []Post
	err := s.waitFor(ctx, func() (bool, error) {
		posts = append(posts[:0], s.posts...)
		return len(posts) >= n, nil
	})
	if err != nil {
		return posts, fmt.Errorf("slacktest: wait for %d posts, have %d: %w", n, len(posts), err)
	}
	return posts, nil
}

// Views returns every view the app opened, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// WaitViews blocks until at least n views were opened in total.
func (s *Server) WaitViews(ctx context.Context, n int) ([]View, error) {
	var views []View
	err := s.waitFor(ctx, func() (bool, error) {
		views = append(views[:0], s.views...)
		return len(views) >= n, nil
	})
	if err != nil {
		return views, fmt.Errorf("slacktest: wait for %d views, have %d: %w", n, len(views), err)
	}
	return views, nil
}

// Acks returns every acknowledgement received, in order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// Calls returns how many times the app called a Web API method (or
// "response_url"), failed calls included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// recordLocked appends a post and wakes waiters. s.mu must be held.
func (s *Server) recordLocked(p Post) {
	p.dir = s.dir
	s.posts = append(s.posts, p)
	s.notifyLocked()
}

// message is a message in the workspace's history, kept so that chat.update,
// response URLs, BlockAction and the history methods can find what they
// refer to. Every field is guarded by Server.mu.
type message struct {
	channel     string
	ts          string
	key         int64 // ts in microseconds, for ordering; 0 if ts does not parse
	threadTS    string
	user        string // the author
	text        string
	blocks      json.RawMessage
	ephemeralTo string // non-empty for an ephemeral message
	deleted     bool

	subtype     string // "", "bot_message", "thread_broadcast", …
	botID       string // for a bot_message from another app
	clientMsgID string // for a message a person typed
	files       []File
	edited      *Edited
	reactions   []Reaction
}

func (s *Server) findMessageLocked(channel, ts string) *message {
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.channel == channel && m.ts == ts && !m.deleted {
			return m
		}
	}
	return nil
}
