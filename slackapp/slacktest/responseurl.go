package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Response URL limits: "You can use a response_url five times within 30
// minutes" (https://api.slack.com/interactivity/handling#message_responses).
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

// responseURL is a response_url handed to the app with a slash command or an
// interaction.
type responseURL struct {
	channel string
	user    string // who made the request: an ephemeral answer is for them
	issued  time.Time
	uses    int
	// replace_original and delete_original act on the message an
	// interaction came from (source) or else on the last message sent
	// through this URL (last).
	source, last *message
}

// newResponseURLLocked issues a response URL. s.mu must be held.
func (s *Server) newResponseURLLocked(channel, user string, source *message) string {
	id := randomHex(32)
	s.responseURLs[id] = &responseURL{channel: channel, user: user, issued: s.now(), source: source}
	return s.base + "/response/" + id
}

// newTriggerLocked issues a trigger ID ("1234567890.123456789012.abcdef…").
// s.mu must be held.
func (s *Server) newTriggerLocked(user string) string {
	now := s.now()
	id := randomDigits(13) + "." + randomDigits(12) + "." + randomHex(32)
	s.triggers[id] = &trigger{user: user, issued: now}
	return id
}

// webhookMessage is what a response URL accepts: slack.WebhookMessage's
// fields that matter here.
type webhookMessage struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	Attachments     json.RawMessage `json:"attachments"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	defer drain(r.Body)
	s.mu.Lock()
	f, failed := s.callLocked(MethodResponseURL)
	s.mu.Unlock()
	if failed && f.hold == nil {
		writeFault(w, MethodResponseURL, f)
		return
	}

	var msg webhookMessage
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil || json.Unmarshal(body, &msg) != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("invalid_payload"))
		return
	}
	if f.hold != nil && !f.hold.wait(s.ctx, r) {
		return // its caller went away: dropped, as if never sent
	}
	blocks, err := validBlocks(msg.Blocks)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("invalid_blocks"))
		return
	}
	if !msg.DeleteOriginal && msg.Text == "" && blocks == nil && len(msg.Attachments) == 0 {
		writeJSON(w, http.StatusBadRequest, errorBody("no_text"))
		return
	}
	if len(msg.Text) > maxTextLen {
		writeJSON(w, http.StatusBadRequest, errorBody("msg_too_long"))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ru, ok := s.responseURLs[r.PathValue("id")]
	switch {
	case !ok:
		writeJSON(w, http.StatusNotFound, errorBody("invalid_url"))
		return
	case ru.uses >= responseURLUses:
		writeJSON(w, http.StatusNotFound, errorBody("used_url"))
		return
	case s.now().Sub(ru.issued) > responseURLTTL:
		writeJSON(w, http.StatusNotFound, errorBody("expired_url"))
		return
	}
	ru.uses++

	p := Post{
		Method:          MethodResponseURL,
		Channel:         ru.channel,
		Text:            msg.Text,
		ThreadTS:        msg.ThreadTS,
		ResponseType:    msg.ResponseType,
		ReplaceOriginal: msg.ReplaceOriginal,
		DeleteOriginal:  msg.DeleteOriginal,
		Blocks:          blocks,
	}
	if p.ResponseType != "in_channel" {
		p.ResponseType = "ephemeral"
	}
	orig := ru.source
	if orig == nil {
		orig = ru.last
	}
	if orig != nil && orig.deleted {
		orig = nil
	}
	switch {
	case msg.DeleteOriginal && orig != nil:
		orig.deleted = true
		p.TS, p.ThreadTS = orig.ts, orig.threadTS
		p.Text, p.Blocks = orig.text, orig.blocks
	case msg.ReplaceOriginal && orig != nil:
		orig.text, orig.blocks = msg.Text, blocks
		p.TS, p.ThreadTS = orig.ts, orig.threadTS
		p.ResponseType = "in_channel"
		if orig.ephemeralTo != "" {
			p.ResponseType = "ephemeral"
		}
	default:
		m := &message{channel: ru.channel, ts: s.nextTSLocked(), threadTS: msg.ThreadTS, user: s.cfg.bot.UserID, text: msg.Text, blocks: blocks}
		if p.ResponseType == "ephemeral" {
			m.ephemeralTo = ru.user
		}
		s.rememberLocked(m)
		p.TS = m.ts
		ru.last = m
	}
	if p.ResponseType == "ephemeral" {
		p.User = ru.user
	}
	s.recordLocked(p)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}
