package slacktest

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
)

// History limits, from the method pages: conversations.history returns 100
// messages by default and at most 999
// (https://docs.slack.dev/reference/methods/conversations.history);
// conversations.replies returns up to 1000.
const (
	historyDefaultLimit = 100
	historyMaxLimit     = 999
	repliesDefaultLimit = 1000
	repliesMaxLimit     = 1000
)

// timeline is one conversation's history, in ts order. Ephemeral messages
// are not part of it.
type timeline struct {
	byTS    map[string]*message   // every message, deleted ones included
	top     []*message            // top-level messages and thread broadcasts, oldest first
	threads map[string][]*message // replies by their thread_ts, oldest first
}

// isReply reports whether m was posted in a thread under another message.
func (m *message) isReply() bool { return m.threadTS != "" && m.threadTS != m.ts }

func byKey(a, b *message) int {
	switch {
	case a.key < b.key:
		return -1
	case a.key > b.key:
		return 1
	}
	return 0
}

func insertByKey(list []*message, m *message) []*message {
	i, _ := slices.BinarySearchFunc(list, m, byKey)
	for i < len(list) && list[i].key == m.key {
		i++ // keep equal keys in order of arrival
	}
	return slices.Insert(list, i, m)
}

func (t *timeline) insert(m *message) {
	t.byTS[m.ts] = m
	if !m.isReply() || m.subtype == "thread_broadcast" {
		t.top = insertByKey(t.top, m)
	}
	if m.isReply() {
		t.threads[m.threadTS] = insertByKey(t.threads[m.threadTS], m)
	}
}

// liveReplies returns the replies to the message with ts that were not
// deleted, oldest first.
func (t *timeline) liveReplies(ts string) []*message {
	var out []*message
	for _, r := range t.threads[ts] {
		if !r.deleted {
			out = append(out, r)
		}
	}
	return out
}

// visible reports whether m shows in history: it was not deleted, or it was
// but its thread lives on under a tombstone.
func (t *timeline) visible(m *message) bool {
	return !m.deleted || (!m.isReply() && len(t.liveReplies(m.ts)) > 0)
}

// timelineLocked returns a conversation's timeline, creating it.
// s.mu must be held.
func (s *Server) timelineLocked(channel string) *timeline {
	t, ok := s.timelines[channel]
	if !ok {
		t = &timeline{byTS: map[string]*message{}, threads: map[string][]*message{}}
		s.timelines[channel] = t
	}
	return t
}

// rememberLocked records a message the workspace now holds: in the list
// that chat.update, response URLs and interactions search, and, unless it
// is ephemeral or its ts does not parse, in its conversation's history. A
// message whose ts its conversation already holds is not recorded again.
// s.mu must be held.
func (s *Server) rememberLocked(m *message) {
	key, ok := parseTS(m.ts)
	if m.ephemeralTo != "" || !ok {
		s.messages = append(s.messages, m)
		return
	}
	t := s.timelineLocked(m.channel)
	if _, dup := t.byTS[m.ts]; dup {
		return
	}
	m.key = key
	s.messages = append(s.messages, m)
	t.insert(m)
}

// historyMessageLocked finds a message of a conversation's history by ts,
// deleted ones included. s.mu must be held.
func (s *Server) historyMessageLocked(channel, ts string) *message {
	if t, ok := s.timelines[channel]; ok {
		return t.byTS[ts]
	}
	return nil
}

// parseTS reads a message timestamp ("1355517523.000005", or whole seconds
// such as "0") as microseconds.
func parseTS(ts string) (int64, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	if sec == "" || len(sec) > 12 || len(frac) > 6 || !allDigits(sec) || !allDigits(frac) {
		return 0, false
	}
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	us := n * 1e6
	if frac != "" {
		f, err := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
		if err != nil {
			return 0, false
		}
		us += f
	}
	return us, true
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Cursors are opaque to clients; like Slack's, these are base64 of
// "<kind>:<position>" ("next_ts:1512085861000543", "team:C061FA5PB").
func encodeCursor(kind, pos string) string {
	return base64.StdEncoding.EncodeToString([]byte(kind + ":" + pos))
}

func decodeCursor(cursor, kind string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return "", apiError("invalid_cursor")
	}
	pos, ok := strings.CutPrefix(string(b), kind+":")
	if !ok || pos == "" {
		return "", apiError("invalid_cursor")
	}
	return pos, nil
}

// tsCursor reads a cursor of the history methods: the key of the next
// message to return, or -1 without a cursor.
func tsCursor(p params) (int64, error) {
	c := p.get("cursor")
	if c == "" {
		return -1, nil
	}
	pos, err := decodeCursor(c, "next_ts")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(pos, 10, 64)
	if err != nil || n < 0 {
		return 0, apiError("invalid_cursor")
	}
	return n, nil
}

// intParam reads an integer parameter: 0 when absent, an error when it is
// not a non-negative integer.
func (p params) intParam(name string) (int, bool) {
	v := p.get(name)
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// historyLimit reads limit for the history methods: the default when absent
// or 0, at most max.
func historyLimit(p params, def, max int) (int, error) {
	n, ok := p.intParam("limit")
	switch {
	case !ok:
		return 0, apiError("invalid_limit")
	case n == 0:
		return def, nil
	}
	return min(n, max), nil
}

func truthy(v string) bool { return v == "1" || v == "true" }

// window is the range of ts that oldest, latest and inclusive select, as
// inclusive bounds in microseconds.
type window struct{ lo, hi int64 }

func (w window) contains(key int64) bool { return key >= w.lo && key <= w.hi }

// timeWindow reads oldest (default 0), latest (default: no end; Slack's
// default, now, would hide messages a test dates after the fake clock) and
// inclusive, which counts only when oldest or latest is given.
func timeWindow(p params) (window, error) {
	w := window{lo: 0, hi: math.MaxInt64}
	inclusive := truthy(p.get("inclusive"))
	if v := p.get("oldest"); v != "" {
		k, ok := parseTS(v)
		if !ok {
			return w, apiError("invalid_ts_oldest")
		}
		w.lo = k
		if !inclusive {
			w.lo++
		}
	}
	if v := p.get("latest"); v != "" {
		k, ok := parseTS(v)
		if !ok {
			return w, apiError("invalid_ts_latest")
		}
		w.hi = k
		if !inclusive {
			w.hi--
		}
	}
	return w, nil
}

// readableLocked resolves the channel argument of a history method: a
// conversation ID, or the ID of the bot's DM with a user. A bot token reads
// only conversations the bot is in: Slack answers channel_not_found for a
// private channel it is not in and not_in_channel for a public one
// (https://docs.slack.dev/reference/methods/conversations.history#errors).
// s.mu must be held.
func (s *Server) readableLocked(id string) (*channel, error) {
	ch, err := s.conversationLocked(id)
	switch {
	case err != nil:
		return nil, err
	case ch.im:
		return ch, nil
	case ch.IsPrivate && !ch.IsMember:
		return nil, apiError("channel_not_found")
	case !ch.IsMember:
		return nil, apiError("not_in_channel")
	}
	return ch, nil
}

// conversationLocked finds a conversation by ID, opening the bot's DM with
// a user on first use of its "D…" ID. Unlike resolveLocked it accepts no
// names or user IDs, as the methods that take only IDs do. s.mu must be held.
func (s *Server) conversationLocked(id string) (*channel, error) {
	if ch, ok := s.channels[id]; ok {
		return ch, nil
	}
	if _, isDM := userOfDM(id); isDM {
		return s.resolveLocked(id)
	}
	return nil, apiError("channel_not_found")
}

func (s *Server) conversationsHistory(p params) (map[string]any, error) {
	w, err := timeWindow(p)
	if err != nil {
		return nil, err
	}
	limit, err := historyLimit(p, historyDefaultLimit, historyMaxLimit)
	if err != nil {
		return nil, err
	}
	cursor, err := tsCursor(p)
	if err != nil {
		return nil, err
	}
	if cursor >= 0 {
		w.hi = min(w.hi, cursor)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.readableLocked(p.get("channel"))
	if err != nil {
		return nil, err
	}
	msgs := []map[string]any{}
	hasMore := false
	var next int64
	if t, ok := s.timelines[ch.ID]; ok {
		// Newest first: walk back from the last message at or before hi.
		i, _ := slices.BinarySearchFunc(t.top, w.hi, func(m *message, k int64) int {
			if m.key <= k {
				return -1
			}
			return 1
		})
		for i--; i >= 0 && t.top[i].key >= w.lo; i-- {
			m := t.top[i]
			if !t.visible(m) {
				continue
			}
			if len(msgs) == limit {
				hasMore, next = true, m.key
				break
			}
			msgs = append(msgs, s.messageJSONLocked(m))
		}
	}
	resp := map[string]any{
		"messages":              msgs,
		"has_more":              hasMore,
		"pin_count":             0,
		"channel_actions_ts":    nil,
		"channel_actions_count": 0,
	}
	if v := p.get("latest"); v != "" {
		resp["latest"] = v
	}
	if hasMore {
		resp["response_metadata"] = map[string]any{"next_cursor": encodeCursor("next_ts", strconv.FormatInt(next, 10))}
	}
	return resp, nil
}

// conversationsReplies returns a thread: its parent first (on the first
// page only), then the replies oldest first. oldest and latest select
// replies; the parent always leads the first page.
func (s *Server) conversationsReplies(p params) (map[string]any, error) {
	w, err := timeWindow(p)
	if err != nil {
		return nil, err
	}
	limit, err := historyLimit(p, repliesDefaultLimit, repliesMaxLimit)
	if err != nil {
		return nil, err
	}
	cursor, err := tsCursor(p)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.readableLocked(p.get("channel"))
	if err != nil {
		return nil, err
	}
	t, ok := s.timelines[ch.ID]
	if !ok {
		return nil, apiError("thread_not_found")
	}
	m, ok := t.byTS[p.get("ts")]
	if !ok || (m.deleted && m.isReply()) {
		return nil, apiError("thread_not_found")
	}
	root := m.ts
	if m.isReply() {
		root = m.threadTS
	}
	parent := t.byTS[root]
	replies := t.liveReplies(root)
	if parent != nil && !t.visible(parent) {
		parent = nil
	}
	if parent == nil && len(replies) == 0 {
		return nil, apiError("thread_not_found")
	}

	msgs := []map[string]any{}
	if cursor < 0 && parent != nil {
		msgs = append(msgs, s.messageJSONLocked(parent))
	}
	hasMore := false
	var next int64
	for _, r := range replies {
		if !w.contains(r.key) || r.key < cursor {
			continue
		}
		if len(msgs) >= limit {
			hasMore, next = true, r.key
			break
		}
		msgs = append(msgs, s.messageJSONLocked(r))
	}
	resp := map[string]any{"messages": msgs, "has_more": hasMore}
	if hasMore {
		resp["response_metadata"] = map[string]any{"next_cursor": encodeCursor("next_ts", strconv.FormatInt(next, 10))}
	}
	return resp, nil
}

// chatGetPermalink answers with the message's permalink
// (https://docs.slack.dev/reference/methods/chat.getPermalink):
// https://<domain>.slack.com/archives/<channel>/p<ts without the dot>, and
// for a reply ?thread_ts=<parent ts>&cid=<channel>.
func (s *Server) chatGetPermalink(p params) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, err := s.conversationLocked(p.get("channel"))
	if err != nil {
		return nil, err
	}
	if ch.IsPrivate && !ch.IsMember && !ch.im {
		return nil, apiError("channel_not_found")
	}
	m := s.historyMessageLocked(ch.ID, p.get("message_ts"))
	if m == nil || m.deleted {
		return nil, apiError("message_not_found")
	}
	return map[string]any{"channel": ch.ID, "permalink": s.permalink(ch.ID, m)}, nil
}

func (s *Server) permalink(channel string, m *message) string {
	link := "https://" + s.cfg.team.Domain + ".slack.com/archives/" + channel + "/p" + strings.Replace(m.ts, ".", "", 1)
	if m.isReply() {
		link += "?thread_ts=" + m.threadTS + "&cid=" + channel
	}
	return link
}

// messageJSONLocked renders a message as conversations.history,
// conversations.replies and chat.postMessage return it
// (https://docs.slack.dev/reference/events/message): the app's own
// messages carry bot_id, app_id and bot_profile; a thread's parent carries
// thread_ts and the reply counters; a reply carries thread_ts and
// parent_user_id; a deleted parent whose replies remain is a tombstone.
// s.mu must be held.
func (s *Server) messageJSONLocked(m *message) map[string]any {
	t := s.timelines[m.channel]
	j := map[string]any{"type": "message", "ts": m.ts}
	if m.deleted {
		j["subtype"] = "tombstone"
		j["text"] = "This message was deleted."
		j["user"] = "USLACKBOT"
		j["hidden"] = true
	} else {
		s.fillContentLocked(j, m)
	}
	if t == nil {
		if m.threadTS != "" {
			j["thread_ts"] = m.threadTS
		}
		return j
	}
	if m.isReply() {
		j["thread_ts"] = m.threadTS
		if parent := t.byTS[m.threadTS]; parent != nil {
			if parent.user != "" {
				j["parent_user_id"] = parent.user
			}
			if m.subtype == "thread_broadcast" && !parent.deleted {
				root := map[string]any{"type": "message", "ts": parent.ts}
				s.fillContentLocked(root, parent)
				s.fillThreadLocked(root, t, parent)
				j["root"] = root
			}
		}
		return j
	}
	s.fillThreadLocked(j, t, m)
	return j
}

// fillContentLocked sets what a message says and who sent it.
func (s *Server) fillContentLocked(j map[string]any, m *message) {
	b, team := s.cfg.bot, s.cfg.team.ID
	j["text"] = m.text
	switch {
	case m.user == b.UserID:
		j["user"] = m.user
		j["bot_id"] = b.BotID
		j["app_id"] = b.AppID
		j["team"] = team
		j["bot_profile"] = map[string]any{
			"id": b.BotID, "app_id": b.AppID, "name": b.Name, "deleted": false, "team_id": team,
		}
	case m.subtype == "bot_message":
		if m.user != "" {
			j["user"] = m.user
		}
		j["bot_id"] = m.botID
	default:
		if m.user != "" {
			j["user"] = m.user
			j["team"] = team
		}
		if m.clientMsgID != "" {
			j["client_msg_id"] = m.clientMsgID
		}
	}
	if m.subtype != "" {
		j["subtype"] = m.subtype
	}
	if m.blocks != nil {
		j["blocks"] = m.blocks
	}
	if len(m.files) > 0 {
		files := make([]map[string]any, len(m.files))
		for i, f := range m.files {
			files[i] = s.fileJSON(f, m)
		}
		j["files"] = files
	}
	if m.edited != nil {
		j["edited"] = map[string]any{"user": m.edited.User, "ts": m.edited.TS}
	}
	if len(m.reactions) > 0 {
		rs := make([]map[string]any, len(m.reactions))
		for i, r := range m.reactions {
			rs[i] = map[string]any{"name": r.Name, "users": r.Users, "count": len(r.Users)}
		}
		j["reactions"] = rs
	}
}

// fillThreadLocked sets a parent's thread_ts and reply counters, if it has
// replies.
func (s *Server) fillThreadLocked(j map[string]any, t *timeline, m *message) {
	replies := t.liveReplies(m.ts)
	if len(replies) == 0 {
		return
	}
	var users []string
	for _, r := range replies {
		if r.user != "" && !slices.Contains(users, r.user) {
			users = append(users, r.user)
		}
	}
	j["thread_ts"] = m.ts
	j["reply_count"] = len(replies)
	j["reply_users_count"] = len(users)
	j["reply_users"] = users
	j["latest_reply"] = replies[len(replies)-1].ts
	j["is_locked"] = false
	j["subscribed"] = false
}

// fileJSON is a file object as messages carry it
// (https://docs.slack.dev/reference/objects/file-object).
func (s *Server) fileJSON(f File, m *message) map[string]any {
	base := "https://files.slack.com/files-pri/" + s.cfg.team.ID + "-" + f.ID + "/"
	created := m.key / 1e6
	return map[string]any{
		"id":                   f.ID,
		"created":              created,
		"timestamp":            created,
		"name":                 f.Name,
		"title":                f.Title,
		"mimetype":             f.Mimetype,
		"filetype":             f.Filetype,
		"pretty_type":          f.Filetype,
		"user":                 m.user,
		"user_team":            s.cfg.team.ID,
		"size":                 f.Size,
		"mode":                 "hosted",
		"is_external":          false,
		"external_type":        "",
		"is_public":            true,
		"url_private":          base + f.Name,
		"url_private_download": base + "download/" + f.Name,
		"permalink":            "https://" + s.cfg.team.Domain + ".slack.com/files/" + m.user + "/" + f.ID + "/" + f.Name,
	}
}
