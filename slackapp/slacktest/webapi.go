package slacktest

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiError is a Slack Web API error code, answered as {"ok":false,"error":code}.
type apiError string

func (e apiError) Error() string { return string(e) }

type tokenKind int

const (
	botToken tokenKind = iota
	appToken
)

// apiMethod serves one Web API method with the token kind it requires.
type apiMethod struct {
	token tokenKind
	serve func(p params) (map[string]any, error)
}

// method returns the Web API method of that name, if the fake serves it.
func (s *Server) method(name string) (apiMethod, bool) {
	switch name {
	case "auth.test":
		return apiMethod{botToken, s.authTest}, true
	case "apps.connections.open":
		return apiMethod{appToken, s.appsConnectionsOpen}, true
	case "chat.postMessage":
		return apiMethod{botToken, s.chatPostMessage}, true
	case "chat.postEphemeral":
		return apiMethod{botToken, s.chatPostEphemeral}, true
	case "chat.update":
		return apiMethod{botToken, s.chatUpdate}, true
	case "chat.getPermalink":
		return apiMethod{botToken, s.chatGetPermalink}, true
	case "conversations.history":
		return apiMethod{botToken, s.conversationsHistory}, true
	case "conversations.info":
		return apiMethod{botToken, s.conversationsInfo}, true
	case "conversations.join":
		return apiMethod{botToken, s.conversationsJoin}, true
	case "conversations.list":
		return apiMethod{botToken, s.conversationsList}, true
	case "conversations.replies":
		return apiMethod{botToken, s.conversationsReplies}, true
	case "files.info":
		return apiMethod{botToken, s.filesInfo}, true
	case "users.info":
		return apiMethod{botToken, s.usersInfo}, true
	case "users.list":
		return apiMethod{botToken, s.usersList}, true
	case "views.open":
		return apiMethod{botToken, s.viewsOpen}, true
	}
	return apiMethod{}, false
}

// maxTextLen is chat.postMessage's limit on text
// (https://api.slack.com/methods/chat.postMessage#truncating).
const maxTextLen = 40000

// maxBlocks is Block Kit's limit of blocks in a message
// (https://api.slack.com/reference/block-kit/blocks).
const maxBlocks = 50

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	defer drain(r.Body)

	s.mu.Lock()
	f, failed := s.callLocked(name)
	s.mu.Unlock()
	if failed && f.hold == nil {
		s.log.Debug("injected failure", "method", name, "status", f.status, "error", f.slackError)
		writeFault(w, name, f)
		return
	}

	m, ok := s.method(name)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "unknown_method", "req_method": name})
		return
	}
	p, err := parseParams(r)
	if err != nil {
		s.log.Warn("bad request", "method", name, "err", err)
		writeJSON(w, http.StatusOK, errorBody("invalid_form_data"))
		return
	}
	if err := s.authorize(m.token, bearer(r, p)); err != nil {
		writeJSON(w, http.StatusOK, errorBody(err.Error()))
		return
	}
	// Held after the body is read: only then does the server notice the
	// caller going away.
	if f.hold != nil && !f.hold.wait(s.ctx, r) {
		s.log.Debug("held call dropped: its caller went away", "method", name)
		return
	}
	resp, err := m.serve(p)
	if err != nil {
		var code apiError
		if !errors.As(err, &code) {
			code = "internal_error"
			s.log.Error("serve api", "method", name, "err", err)
		}
		writeJSON(w, http.StatusOK, errorBody(string(code)))
		return
	}
	resp["ok"] = true
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// bearer returns the request's token: the Authorization header's, or the
// "token" parameter's (https://api.slack.com/web#authentication).
func bearer(r *http.Request, p params) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
	}
	return p.get("token")
}

func (s *Server) authorize(want tokenKind, tok string) error {
	if tok == "" {
		return apiError("not_authed")
	}
	isApp := hmac.Equal([]byte(tok), []byte(s.cfg.appToken))
	isBot := hmac.Equal([]byte(tok), []byte(s.cfg.botToken))
	switch {
	case want == appToken && isApp, want == botToken && isBot:
		return nil
	case isApp || isBot:
		return apiError("not_allowed_token_type")
	default:
		return apiError("invalid_auth")
	}
}

// params are a Web API call's arguments, from a query string, a form body or
// a JSON body.
type params struct {
	form url.Values
	json map[string]json.RawMessage
}

func parseParams(r *http.Request) (params, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			return params{}, fmt.Errorf("read body: %w", err)
		}
		p := params{form: r.URL.Query(), json: map[string]json.RawMessage{}}
		body = bytes.TrimSpace(body)
		if len(body) == 0 || string(body) == "null" {
			return p, nil
		}
		if err := json.Unmarshal(body, &p.json); err != nil {
			return params{}, fmt.Errorf("decode JSON body: %w", err)
		}
		return p, nil
	}
	if err := r.ParseForm(); err != nil {
		return params{}, fmt.Errorf("parse form: %w", err)
	}
	return params{form: r.Form}, nil
}

// get returns a parameter as a string; a JSON value that is not a string
// comes back as its JSON text.
func (p params) get(name string) string {
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		if string(raw) == "null" {
			return ""
		}
		return string(raw)
	}
	return p.form.Get(name)
}

// raw returns a parameter that holds JSON (blocks, view): a form field holds
// it as a string, a JSON body as a value or a string.
func (p params) raw(name string) json.RawMessage {
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return json.RawMessage(s)
		}
		if string(raw) == "null" {
			return nil
		}
		return raw
	}
	if v := p.form.Get(name); v != "" {
		return json.RawMessage(v)
	}
	return nil
}

// blocks validates the blocks parameter: absent, or a JSON array of at most
// 50 objects that each have a type.
func (p params) blocks() (json.RawMessage, error) {
	return validBlocks(p.raw("blocks"))
}

func validBlocks(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, apiError("invalid_blocks")
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	if len(blocks) > maxBlocks {
		return nil, apiError("invalid_blocks")
	}
	ids := map[string]bool{}
	for _, b := range blocks {
		if b.Type == "" || (b.BlockID != "" && ids[b.BlockID]) {
			return nil, apiError("invalid_blocks")
		}
		ids[b.BlockID] = b.BlockID != ""
	}
	return raw, nil
}

func (s *Server) authTest(params) (map[string]any, error) {
	t, b := s.cfg.team, s.cfg.bot
	return map[string]any{
		"url":                   "https://" + t.Domain + ".slack.com/",
		"team":                  t.Name,
		"user":                  b.Name,
		"team_id":               t.ID,
		"user_id":               b.UserID,
		"bot_id":                b.BotID,
		"is_enterprise_install": false,
	}, nil
}

func (s *Server) appsConnectionsOpen(params) (map[string]any, error) {
	ticket := randomHex(32)
	s.mu.Lock()
	s.tickets[ticket] = s.now()
	s.mu.Unlock()
	u := "ws" + strings.TrimPrefix(s.base, "http") + "/link/?ticket=" + ticket + "&app_id=" + url.QueryEscape(s.cfg.bot.AppID)
	return map[string]any{"url": u}, nil
}

// resolveLocked finds the conversation a channel argument names: a channel
// ID, a DM ID, a user ID (the bot's DM with that user, opened on first use)
// or a channel name with or without "#". s.mu must be held.
func (s *Server) resolveLocked(ref string) (*channel, error) {
	if ref == "" {
		return nil, apiError("channel_not_found")
	}
	if ch, ok := s.channels[ref]; ok {
		return ch, nil
	}
	userID := ref
	if u, ok := userOfDM(ref); ok {
		userID = u
	}
	if u, ok := s.users[userID]; ok && u.ID != s.cfg.bot.UserID {
		ch := &channel{Channel: Channel{ID: dmID(u.ID), IsMember: true, IsPrivate: true}, im: true, user: u.ID, created: s.now().Unix()}
		s.channels[ch.ID] = ch
		s.channelOrder = append(s.channelOrder, ch.ID)
		return ch, nil
	}
	if ch := s.channelNamedLocked(strings.TrimPrefix(ref, "#")); ch != nil {
		return ch, nil
	}
	return nil, apiError("channel_not_found")
}

// postableLocked resolves a channel the bot wants to post in and checks that
// it may (https://api.slack.com/methods/chat.postMessage#errors). A private
// channel the bot is not in does not exist as far as the bot can tell.
func (s *Server) postableLocked(ref string) (*channel, error) {
	ch, err := s.resolveLocked(ref)
	switch {
	case err != nil:
		return nil, err
	case ch.im:
		return ch, nil
	case ch.IsPrivate && !ch.IsMember:
		return nil, apiError("channel_not_found")
	case ch.IsArchived:
		return nil, apiError("is_archived")
	case !ch.IsMember:
		return nil, apiError("not_in_channel")
	}
	return ch, nil
}

// content reads and checks a message's text and blocks.
func content(p params) (text string, blocks json.RawMessage, err error) {
	text = p.get("text")
	blocks, err = p.blocks()
	if err != nil {
		return "", nil, err
	}
	if text == "" && blocks == nil && p.get("attachments") == "" {
		return "", nil, apiError("no_text")
	}
	if len(text) > maxTextLen {
		return "", nil, apiError("msg_too_long")
	}
	return text, blocks, nil
}

func (s *Server) chatPostMessage(p params) (map[string]any, error) {
	text, blocks, err := content(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.postableLocked(p.get("channel"))
	if err != nil {
		return nil, err
	}
	m := &message{channel: ch.ID, ts: s.nextTSLocked(), threadTS: p.get("thread_ts"), user: s.cfg.bot.UserID, text: text, blocks: blocks}
	if m.threadTS != "" && truthy(p.get("reply_broadcast")) {
		m.subtype = "thread_broadcast"
	}
	s.rememberLocked(m)
	s.recordLocked(Post{Method: MethodPostMessage, Channel: ch.ID, Text: text, ThreadTS: m.threadTS, TS: m.ts, Blocks: blocks})
	return map[string]any{"channel": ch.ID, "ts": m.ts, "message": s.messageJSONLocked(m)}, nil
}

func (s *Server) chatPostEphemeral(p params) (map[string]any, error) {
	text, blocks, err := content(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.postableLocked(p.get("channel"))
	if err != nil {
		return nil, err
	}
	user := p.get("user")
	if u, ok := s.users[user]; !ok || u.Deleted {
		return nil, apiError("user_not_found")
	}
	if ch.im && ch.user != user {
		return nil, apiError("user_not_in_channel")
	}
	m := &message{channel: ch.ID, ts: s.nextTSLocked(), threadTS: p.get("thread_ts"), user: s.cfg.bot.UserID, text: text, blocks: blocks, ephemeralTo: user}
	s.rememberLocked(m)
	s.recordLocked(Post{Method: MethodPostEphemeral, Channel: ch.ID, User: user, Text: text, ThreadTS: m.threadTS, TS: m.ts, Blocks: blocks})
	return map[string]any{"message_ts": m.ts}, nil
}

func (s *Server) chatUpdate(p params) (map[string]any, error) {
	text, blocks, err := content(p)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.postableLocked(p.get("channel"))
	if err != nil {
		return nil, err
	}
	m := s.findMessageLocked(ch.ID, p.get("ts"))
	switch {
	case m == nil || m.ephemeralTo != "":
		return nil, apiError("message_not_found")
	case m.user != s.cfg.bot.UserID:
		return nil, apiError("cant_update_message")
	}
	m.text, m.blocks = text, blocks
	s.recordLocked(Post{Method: MethodUpdate, Channel: ch.ID, Text: text, ThreadTS: m.threadTS, TS: m.ts, Blocks: blocks})
	return map[string]any{"channel": ch.ID, "ts": m.ts, "text": text, "message": s.messageJSONLocked(m)}, nil
}

func (s *Server) conversationsInfo(p params) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.conversationLocked(p.get("channel"))
	if err != nil {
		return nil, err
	}
	if ch.IsPrivate && !ch.IsMember {
		return nil, apiError("channel_not_found")
	}
	return map[string]any{"channel": ch.json(s.cfg.team)}, nil
}

func (s *Server) conversationsJoin(p params) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[p.get("channel")]
	switch {
	case !ok || (ch.IsPrivate && !ch.IsMember):
		return nil, apiError("channel_not_found")
	case ch.im || ch.IsPrivate:
		return nil, apiError("method_not_supported_for_channel_type")
	case ch.IsArchived:
		return nil, apiError("is_archived")
	}
	resp := map[string]any{}
	if ch.IsMember {
		resp["warning"] = "already_in_channel"
		resp["response_metadata"] = map[string]any{"warnings": []string{"already_in_channel"}}
	}
	ch.IsMember = true
	s.notifyLocked()
	resp["channel"] = ch.json(s.cfg.team)
	return resp, nil
}

func (s *Server) usersInfo(p params) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[p.get("user")]
	if !ok {
		return nil, apiError("user_not_found")
	}
	j := u.json(s.cfg.team, s.cfg.bot, s.now())
	s.withAvatarLocked(&j)
	return map[string]any{"user": j}, nil
}

func (s *Server) viewsOpen(p params) (map[string]any, error) {
	triggerID := p.get("trigger_id")
	raw := p.raw("view")
	var view map[string]json.RawMessage
	if triggerID == "" || raw == nil || json.Unmarshal(raw, &view) != nil {
		return nil, apiError("invalid_arguments")
	}
	var typ string
	if json.Unmarshal(view["type"], &typ) != nil || typ != "modal" {
		return nil, apiError("invalid_arguments")
	}
	if _, err := validBlocks(view["blocks"]); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.triggers[triggerID]
	switch {
	case !ok:
		return nil, apiError("invalid_trigger_id")
	case t.used:
		return nil, apiError("exchanged_trigger_id")
	case s.now().Sub(t.issued) > s.cfg.triggerTTL:
		return nil, apiError("expired_trigger_id")
	}
	t.used = true
	id := newID("V")
	s.views = append(s.views, View{ID: id, TriggerID: triggerID, UserID: t.user, Payload: raw})
	s.notifyLocked()

	out := map[string]any{}
	for k, v := range view {
		out[k] = v
	}
	out["id"] = id
	out["team_id"] = s.cfg.team.ID
	out["app_id"] = s.cfg.bot.AppID
	out["bot_id"] = s.cfg.bot.BotID
	out["root_view_id"] = id
	out["previous_view_id"] = nil
	out["hash"] = randomHex(16)
	out["state"] = map[string]any{"values": map[string]any{}}
	return map[string]any{"view": out}, nil
}

// trigger is a trigger_id handed to the app with a slash command or an
// interaction; views.open may exchange it once, within the trigger TTL.
type trigger struct {
	user   string
	issued time.Time
	used   bool
}
