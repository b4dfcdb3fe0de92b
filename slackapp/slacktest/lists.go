package slacktest

import (
	"slices"
	"strings"
)

// List limits: conversations.list returns 100 channels by default and
// refuses a limit over 1000 with invalid_limit
// (https://docs.slack.dev/reference/methods/conversations.list); users.list
// returns every user when no limit is given and at most 1000 per page
// (https://docs.slack.dev/reference/methods/users.list).
const (
	listDefaultLimit = 100
	listMaxLimit     = 1000
)

// conversationsList pages through the workspace's conversations in order
// of creation. Like Slack, it takes limit conversations and then drops those
// the types, exclude_archived and the bot's visibility rule out, so a page
// may hold fewer than limit (even none) while next_cursor is not empty:
// clients must follow the cursor until it is empty. A bot sees public
// channels, the private channels it is in and its DMs; there are no mpims.
func (s *Server) conversationsList(p params) (map[string]any, error) {
	limit, ok := p.intParam("limit")
	switch {
	case !ok || limit > listMaxLimit:
		return nil, apiError("invalid_limit")
	case limit == 0:
		limit = listDefaultLimit
	}
	types := map[string]bool{}
	for _, t := range strings.Split(p.get("types"), ",") {
		switch t = strings.TrimSpace(t); t {
		case "":
		case "public_channel", "private_channel", "mpim", "im":
			types[t] = true
		default:
			return nil, apiError("invalid_types")
		}
	}
	if len(types) == 0 {
		types["public_channel"] = true
	}
	excludeArchived := truthy(p.get("exclude_archived"))

	s.mu.Lock()
	defer s.mu.Unlock()
	start, err := listCursor(p.get("cursor"), "team", s.channelOrder)
	if err != nil {
		return nil, err
	}
	end := min(start+limit, len(s.channelOrder))
	out := []channelJSON{}
	for _, id := range s.channelOrder[start:end] {
		ch := s.channels[id]
		var want bool
		switch {
		case ch.im:
			want = types["im"]
		case ch.IsPrivate:
			want = types["private_channel"] && ch.IsMember
		default:
			want = types["public_channel"]
		}
		if !want || (excludeArchived && ch.IsArchived) {
			continue
		}
		j := ch.json(s.cfg.team)
		if ch.im {
			deleted := s.users[ch.user].Deleted
			j.IsUserDeleted = &deleted
		} else {
			n := s.numMembersLocked(ch)
			j.NumMembers = &n
		}
		out = append(out, j)
	}
	next := ""
	if end < len(s.channelOrder) {
		next = encodeCursor("team", s.channelOrder[end])
	}
	return map[string]any{"channels": out, "response_metadata": map[string]any{"next_cursor": next}}, nil
}

// numMembersLocked is a channel's num_members. s.mu must be held.
func (s *Server) numMembersLocked(ch *channel) int {
	if ch.NumMembers > 0 {
		return ch.NumMembers
	}
	n := 0
	for _, u := range s.users {
		if !u.IsBot && !u.Deleted {
			n++
		}
	}
	if ch.IsMember {
		n++
	}
	return n
}

// usersList pages through the workspace's users, the bot first, deleted
// users and bots included as in Slack. Slackbot is not listed.
func (s *Server) usersList(p params) (map[string]any, error) {
	limit, ok := p.intParam("limit")
	if !ok {
		return nil, apiError("invalid_arguments")
	}
	includeLocale := truthy(p.get("include_locale"))

	s.mu.Lock()
	defer s.mu.Unlock()
	if limit == 0 {
		limit = len(s.userOrder)
	}
	limit = min(limit, listMaxLimit)
	start, err := listCursor(p.get("cursor"), "user", s.userOrder)
	if err != nil {
		return nil, err
	}
	end := min(start+limit, len(s.userOrder))
	now := s.now()
	members := []userJSON{}
	for _, id := range s.userOrder[start:end] {
		j := s.users[id].json(s.cfg.team, s.cfg.bot, now)
		s.withAvatarLocked(&j)
		if includeLocale {
			j.Locale = "en-US"
		}
		members = append(members, j)
	}
	next := ""
	if end < len(s.userOrder) {
		next = encodeCursor("user", s.userOrder[end])
	}
	return map[string]any{
		"members":           members,
		"cache_ts":          now.Unix(),
		"response_metadata": map[string]any{"next_cursor": next},
	}, nil
}

// listCursor returns where a page starts in order: 0 without a cursor, else
// the position of the ID the cursor names.
func listCursor(cursor, kind string, order []string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	id, err := decodeCursor(cursor, kind)
	if err != nil {
		return 0, err
	}
	i := slices.Index(order, id)
	if i < 0 {
		return 0, apiError("invalid_cursor")
	}
	return i, nil
}
