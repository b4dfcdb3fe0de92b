package digest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// Source is where a digest reads a channel's messages: the archive when it
// is on (cmd/townhall adapts it), else Slack's Web API (NewAPISource).
// Methods honour ctx and are safe for concurrent use.
type Source interface {
	// Messages returns channel's messages with since <= ts < before,
	// oldest first: top-level messages, thread replies, channel_join and
	// channel_leave messages. It also returns the parents, posted earlier,
	// of threads that got replies in the period, so their first lines can
	// be shown; the digest tells them apart by their ts.
	Messages(ctx context.Context, channel string, since, before time.Time) ([]Message, error)
	// Channels lists the channels a digest covers when
	// TOWNHALL_DIGEST_CHANNELS is empty: public channels the app is in,
	// not archived.
	Channels(ctx context.Context) ([]Channel, error)
	// UserName returns the name to show for a user ("" if unknown), and
	// whether the user is a bot.
	UserName(ctx context.Context, id string) (name string, bot bool, err error)
}

// Message is one message as a digest needs it.
type Message struct {
	TS        string // Slack's "1700000000.000100"
	ThreadTS  string // the parent's ts for a reply or a parent; "" otherwise
	User      string // the author's user ID; "" for some bot messages
	Bot       bool   // posted by an app (bot_id set, or subtype bot_message)
	Subtype   string // "", "channel_join", "thread_broadcast"…
	Text      string // Slack mrkdwn, as Slack sends it
	Reactions int    // reactions on the message, all emoji together
	Hidden    bool   // the author opted out of the archive: never quoted
}

// IsReply reports whether m is a reply in a thread (not its parent).
func (m Message) IsReply() bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

// Channel is a channel a digest may cover.
type Channel struct {
	ID   string
	Name string // without "#"
}

// apiSource reads channels through conversations.history and
// conversations.replies with the bot token.
type apiSource struct {
	api  *slack.Client
	pace *slackapp.Pacer

	mu    sync.Mutex
	users map[string]userName
}

type userName struct {
	name string
	bot  bool
}

// NewAPISource returns a Source that reads Slack's Web API with the bot
// token, spacing its calls at least pace apart (conversations.history and
// conversations.replies are Tier 3: about 50 a minute) and waiting out
// 429s for their Retry-After. Threads whose parents were posted up to one
// period before since are found; older threads that woke up are not (the
// archive, when it is on, finds every one).
func NewAPISource(api *slack.Client, pace time.Duration) Source {
	return &apiSource{api: api, pace: &slackapp.Pacer{Every: pace}, users: make(map[string]userName)}
}

// historyPage is the page size asked of conversations.history and
// conversations.replies (Slack recommends no more than 200).
const historyPage = 200

func (s *apiSource) Messages(ctx context.Context, channel string, since, before time.Time) ([]Message, error) {
	// Parents of this period's replies may be older: read one more period.
	oldest := since.Add(-before.Sub(since))
	var top []slack.Message
	cursor := ""
	for {
		var resp *slack.GetConversationHistoryResponse
		err := s.pace.Call(ctx, func() (err error) {
			resp, err = s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: channel, Cursor: cursor, Oldest: formatTS(oldest), Latest: formatTS(before), Limit: historyPage,
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("digest: conversations.history %s: %w", channel, err)
		}
		top = append(top, resp.Messages...)
		cursor = resp.ResponseMetaData.NextCursor
		if !resp.HasMore || cursor == "" {
			break
		}
	}
	sinceTS, beforeTS := formatTS(since), formatTS(before)
	var out []Message
	for _, m := range top {
		if m.Timestamp >= sinceTS && m.Timestamp < beforeTS || m.ReplyCount > 0 && m.LatestReply >= sinceTS {
			out = append(out, fromSlack(m.Msg))
		}
		if m.ReplyCount == 0 || m.LatestReply < sinceTS {
			continue
		}
		replies, err := s.replies(ctx, channel, m.Timestamp, sinceTS, beforeTS)
		if err != nil {
			return nil, err
		}
		out = append(out, replies...)
	}
	sortByTS(out)
	return out, nil
}

// replies returns the replies of one thread in the period.
func (s *apiSource) replies(ctx context.Context, channel, thread, sinceTS, beforeTS string) ([]Message, error) {
	var out []Message
	cursor := ""
	for {
		var page []slack.Message
		var more bool
		var next string
		err := s.pace.Call(ctx, func() (err error) {
			page, more, next, err = s.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: thread, Cursor: cursor, Oldest: sinceTS, Latest: beforeTS, Limit: historyPage,
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("digest: conversations.replies %s %s: %w", channel, thread, err)
		}
		for _, m := range page {
			// Slack always returns the parent first, whatever oldest says.
			if m.Timestamp != thread && m.Timestamp >= sinceTS && m.Timestamp < beforeTS {
				out = append(out, fromSlack(m.Msg))
			}
		}
		cursor = next
		if !more || cursor == "" {
			return out, nil
		}
	}
}

func (s *apiSource) Channels(ctx context.Context) ([]Channel, error) {
	var out []Channel
	cursor := ""
	for {
		var page []slack.Channel
		err := s.pace.Call(ctx, func() (err error) {
			page, cursor, err = s.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, ExcludeArchived: true, Limit: 200, Types: []string{"public_channel"},
			})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("digest: conversations.list: %w", err)
		}
		for _, c := range page {
			if c.IsMember {
				out = append(out, Channel{ID: c.ID, Name: c.Name})
			}
		}
		if cursor == "" {
			return out, nil
		}
	}
}

func (s *apiSource) UserName(ctx context.Context, id string) (string, bool, error) {
	s.mu.Lock()
	u, ok := s.users[id]
	s.mu.Unlock()
	if ok {
		return u.name, u.bot, nil
	}
	var info *slack.User
	err := s.pace.Call(ctx, func() (err error) {
		info, err = s.api.GetUserInfoContext(ctx, id)
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("digest: users.info %s: %w", id, err)
	}
	u = userName{name: firstOf(info.Profile.DisplayName, info.RealName, info.Name), bot: info.IsBot}
	s.mu.Lock()
	s.users[id] = u
	s.mu.Unlock()
	return u.name, u.bot, nil
}

func fromSlack(m slack.Msg) Message {
	out := Message{TS: m.Timestamp, ThreadTS: m.ThreadTimestamp, User: m.User, Subtype: m.SubType, Text: m.Text,
		Bot: m.BotID != "" || m.SubType == "bot_message"}
	for _, r := range m.Reactions {
		out.Reactions += r.Count
	}
	return out
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// formatTS is t as a Slack timestamp, microseconds included.
func formatTS(t time.Time) string {
	us := t.UnixMicro()
	if us < 0 {
		us = 0
	}
	return fmt.Sprintf("%010d.%06d", us/1e6, us%1e6)
}

// parseTS returns the time of a Slack timestamp.
func parseTS(ts string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 6 {
		return time.Time{}, false
	}
	var us int64
	if frac != "" {
		if us, err = strconv.ParseInt((frac + "000000")[:6], 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(s, us*1000).UTC(), true
}
