package sqlitearchive

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// messageCols are the columns scanMessage reads, from archive_messages m
// joined with archive_users u.
const messageCols = `m.channel, m.ts, m.thread_ts, m.user, m.username, m.bot_id, m.subtype, m.text, m.edited,
	coalesce(m.files, ''), coalesce(m.reactions, ''), coalesce(u.opted_out, 0)`

const messageFrom = `archive_messages m LEFT JOIN archive_users u ON u.id = m.user`

type scanner interface{ Scan(...any) error }

func scanMessage(s scanner, extra ...any) (archive.Message, error) {
	var m archive.Message
	var files, reactions string
	dest := append([]any{&m.Channel, &m.TS, &m.ThreadTS, &m.User, &m.Username, &m.BotID, &m.Subtype, &m.Text, &m.Edited,
		&files, &reactions, &m.Hidden}, extra...)
	if err := s.Scan(dest...); err != nil {
		return m, err
	}
	if files != "" {
		if err := json.Unmarshal([]byte(files), &m.Files); err != nil {
			return m, fmt.Errorf("message %s/%s: files: %w", m.Channel, m.TS, err)
		}
	}
	if reactions != "" {
		if err := json.Unmarshal([]byte(reactions), &m.Reactions); err != nil {
			return m, fmt.Errorf("message %s/%s: reactions: %w", m.Channel, m.TS, err)
		}
	}
	return m, nil
}

// replyCols add a thread parent's reply count and latest reply, kept on
// the parent by PutMessages.
const replyCols = `, CASE WHEN m.thread_ts = m.ts THEN m.reply_count ELSE 0 END,
	CASE WHEN m.thread_ts = m.ts THEN m.latest_reply ELSE '' END`

// Message implements archive.Archive.
func (a *Archive) Message(ctx context.Context, channel, ts string) (archive.Message, bool, error) {
	n, err := archive.NormalizeTS(ts)
	if err != nil {
		return archive.Message{}, false, nil
	}
	row := a.read.QueryRowContext(ctx, `SELECT `+messageCols+replyCols+` FROM `+messageFrom+` WHERE m.channel = ? AND m.ts = ?`, channel, n)
	var replies int
	var last string
	m, err := scanMessage(row, &replies, &last)
	m.ReplyCount, m.LastReply = replies, last
	if errors.Is(err, sql.ErrNoRows) {
		return archive.Message{}, false, nil
	}
	if err != nil {
		return archive.Message{}, false, fmt.Errorf("sqlitearchive: message %s/%s: %w", channel, ts, err)
	}
	return m, true, nil
}

// Messages implements archive.Archive.
func (a *Archive) Messages(ctx context.Context, q archive.MessageQuery) ([]archive.Message, error) {
	query, args := messagesQuery(q)
	rows, err := a.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitearchive: messages of %s: %w", q.Channel, err)
	}
	defer rows.Close()
	var out []archive.Message
	for rows.Next() {
		var replies int
		var last string
		m, err := scanMessage(rows, &replies, &last)
		m.ReplyCount, m.LastReply = replies, last
		if err != nil {
			return nil, fmt.Errorf("sqlitearchive: messages of %s: %w", q.Channel, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitearchive: messages of %s: %w", q.Channel, err)
	}
	return out, nil
}

// messagesQuery is the query of Messages: along the primary key (channel,
// ts), or the thread index for a thread.
func messagesQuery(q archive.MessageQuery) (string, []any) {
	where := []string{"m.channel = ?"}
	args := []any{q.Channel}
	if q.Since != "" {
		where, args = append(where, "m.ts >= ?"), append(args, q.Since)
	}
	if q.Before != "" {
		where, args = append(where, "m.ts < ?"), append(args, q.Before)
	}
	from := messageFrom
	if q.ThreadTS != "" || len(q.Threads) > 0 {
		// Without statistics SQLite would rather read the whole channel in
		// ts order than the (partial) thread index and sort.
		from = strings.Replace(from, "archive_messages m", "archive_messages m INDEXED BY archive_messages_thread", 1)
	}
	if q.ThreadTS != "" {
		where, args = append(where, "m.thread_ts = ? AND m.thread_ts <> ''"), append(args, q.ThreadTS)
	}
	if len(q.Threads) > 0 {
		where = append(where, "m.thread_ts IN (?"+strings.Repeat(", ?", len(q.Threads)-1)+") AND m.thread_ts <> ''")
		for _, ts := range q.Threads {
			args = append(args, ts)
		}
	}
	if q.TopLevel {
		where = append(where, "(m.thread_ts = '' OR m.thread_ts = m.ts OR m.subtype = 'thread_broadcast')")
	}
	if q.Replies {
		where = append(where, "m.thread_ts <> '' AND m.thread_ts <> m.ts")
	}
	order := "ASC"
	if q.Desc {
		order = "DESC"
	}
	query := `SELECT ` + messageCols + replyCols + ` FROM ` + from + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY m.ts ` + order
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return query, args
}

// Each implements archive.Archive.
func (a *Archive) Each(ctx context.Context, channel, since string, fn func(archive.Message) error) error {
	rows, err := a.read.QueryContext(ctx, `SELECT `+messageCols+` FROM `+messageFrom+` WHERE m.channel = ? AND m.ts >= ? ORDER BY m.ts`, channel, since)
	if err != nil {
		return fmt.Errorf("sqlitearchive: read %s: %w", channel, err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return fmt.Errorf("sqlitearchive: read %s: %w", channel, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitearchive: read %s: %w", channel, err)
	}
	return nil
}

const channelCols = `id, name, topic, purpose, created, archived, messages, last`

func scanChannel(s scanner) (archive.Channel, error) {
	var c archive.Channel
	var created int64
	err := s.Scan(&c.ID, &c.Name, &c.Topic, &c.Purpose, &created, &c.Archived, &c.Messages, &c.Last)
	if created > 0 {
		c.Created = time.Unix(created, 0).UTC()
	}
	return c, err
}

// Channel implements archive.Archive.
func (a *Archive) Channel(ctx context.Context, idOrName string) (archive.Channel, bool, error) {
	c, err := scanChannel(a.read.QueryRowContext(ctx, `SELECT `+channelCols+` FROM archive_channels WHERE id = ?1 OR name = ?1
		ORDER BY id = ?1 DESC LIMIT 1`, idOrName))
	if errors.Is(err, sql.ErrNoRows) {
		return archive.Channel{}, false, nil
	}
	if err != nil {
		return archive.Channel{}, false, fmt.Errorf("sqlitearchive: channel %s: %w", idOrName, err)
	}
	return c, true, nil
}

// Channels implements archive.Archive.
func (a *Archive) Channels(ctx context.Context) ([]archive.Channel, error) {
	rows, err := a.read.QueryContext(ctx, `SELECT `+channelCols+` FROM archive_channels ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlitearchive: channels: %w", err)
	}
	defer rows.Close()
	var out []archive.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitearchive: channels: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

const userCols = `id, name, real_name, display_name, avatar, bot, deleted, opted_out`

func scanUser(s scanner) (archive.User, error) {
	var u archive.User
	err := s.Scan(&u.ID, &u.Name, &u.RealName, &u.DisplayName, &u.Avatar, &u.Bot, &u.Deleted, &u.OptedOut)
	return u, err
}

// User implements archive.Archive.
func (a *Archive) User(ctx context.Context, id string) (archive.User, bool, error) {
	u, err := scanUser(a.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM archive_users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return archive.User{}, false, nil
	}
	if err != nil {
		return archive.User{}, false, fmt.Errorf("sqlitearchive: user %s: %w", id, err)
	}
	return u, true, nil
}

// Users implements archive.Archive.
func (a *Archive) Users(ctx context.Context) ([]archive.User, error) {
	return a.users(ctx, `SELECT `+userCols+` FROM archive_users ORDER BY id`)
}

// UsersByID implements archive.Archive.
func (a *Archive) UsersByID(ctx context.Context, ids []string) ([]archive.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return a.users(ctx, `SELECT `+userCols+` FROM archive_users WHERE id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY id`, args...)
}

func (a *Archive) users(ctx context.Context, query string, args ...any) ([]archive.User, error) {
	rows, err := a.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitearchive: users: %w", err)
	}
	defer rows.Close()
	var out []archive.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitearchive: users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Stats implements archive.Archive.
func (a *Archive) Stats(ctx context.Context) (archive.Stats, error) {
	var s archive.Stats
	err := a.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM archive_channels),
		(SELECT coalesce(sum(messages), 0) FROM archive_channels),
		(SELECT count(*) FROM archive_users),
		(SELECT count(*) FROM archive_users WHERE opted_out),
		(SELECT count(*) FROM archive_removed),
		(SELECT coalesce(max(last), '') FROM archive_channels)`).Scan(&s.Channels, &s.Messages, &s.Users, &s.OptedOut, &s.Removed, &s.Newest)
	if err != nil {
		return s, fmt.Errorf("sqlitearchive: stats: %w", err)
	}
	return s, nil
}
