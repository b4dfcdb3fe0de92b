package pgarchive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/integrations/archive"
)

// messageCols are the columns scanMessage reads, from archive_messages m
// joined with archive_users u.
const messageCols = `m.channel, m.ts, m.thread_ts, m.user_id, m.username, m.bot_id, m.subtype, m.text, m.edited,
	m.files, m.reactions, coalesce(u.opted_out, false)`

const messageFrom = `archive_messages m LEFT JOIN archive_users u ON u.id = m.user_id`

// replyCols add a thread parent's reply count and latest reply, counted
// along the thread index (the lateral join replies, see withReplies).
const replyCols = `, coalesce(replies.n, 0), coalesce(replies.last, '')`

// withReplies joins each thread parent's replies' count and latest.
const withReplies = ` LEFT JOIN LATERAL (
		SELECT count(*) AS n, max(r.ts) AS last FROM archive_messages r
		WHERE m.thread_ts = m.ts AND r.channel = m.channel AND r.thread_ts = m.ts AND r.thread_ts <> '' AND r.ts <> m.ts
	) replies ON true`

func scanMessage(row pgx.Row, extra ...any) (archive.Message, error) {
	var m archive.Message
	var files, reactions string
	dest := append([]any{&m.Channel, &m.TS, &m.ThreadTS, &m.User, &m.Username, &m.BotID, &m.Subtype, &m.Text, &m.Edited,
		&files, &reactions, &m.Hidden}, extra...)
	if err := row.Scan(dest...); err != nil {
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

func scanWithReplies(row pgx.Row) (archive.Message, error) {
	var replies int
	var last string
	m, err := scanMessage(row, &replies, &last)
	m.ReplyCount, m.LastReply = replies, last
	return m, err
}

// Message implements archive.Archive.
func (a *Archive) Message(ctx context.Context, channel, ts string) (archive.Message, bool, error) {
	n, err := archive.NormalizeTS(ts)
	if err != nil {
		return archive.Message{}, false, nil
	}
	m, err := scanWithReplies(a.pool.QueryRow(ctx, `SELECT `+messageCols+replyCols+` FROM `+messageFrom+withReplies+`
		WHERE m.channel = $1 AND m.ts = $2`, channel, n))
	if errors.Is(err, pgx.ErrNoRows) {
		return archive.Message{}, false, nil
	}
	if err != nil {
		return archive.Message{}, false, fmt.Errorf("pgarchive: message %s/%s: %w", channel, ts, err)
	}
	return m, true, nil
}

// Messages implements archive.Archive.
func (a *Archive) Messages(ctx context.Context, q archive.MessageQuery) ([]archive.Message, error) {
	query, args := messagesQuery(q)
	rows, err := a.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pgarchive: messages of %s: %w", q.Channel, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (archive.Message, error) { return scanWithReplies(row) })
	if err != nil {
		return nil, fmt.Errorf("pgarchive: messages of %s: %w", q.Channel, err)
	}
	return out, nil
}

// messagesQuery is the query of Messages: along the primary key (channel,
// ts), or the thread index for a thread.
func messagesQuery(q archive.MessageQuery) (string, []any) {
	args := []any{q.Channel}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"m.channel = $1"}
	if q.Since != "" {
		where = append(where, "m.ts >= "+arg(q.Since))
	}
	if q.Before != "" {
		where = append(where, "m.ts < "+arg(q.Before))
	}
	if q.ThreadTS != "" {
		where = append(where, "m.thread_ts = "+arg(q.ThreadTS)+" AND m.thread_ts <> ''")
	}
	if len(q.Threads) > 0 {
		where = append(where, "m.thread_ts = ANY("+arg(q.Threads)+") AND m.thread_ts <> ''")
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
	query := `SELECT ` + messageCols + replyCols + ` FROM ` + messageFrom + withReplies + ` WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY m.ts ` + order
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return query, args
}

// Each implements archive.Archive.
func (a *Archive) Each(ctx context.Context, channel, since string, fn func(archive.Message) error) error {
	rows, err := a.pool.Query(ctx, `SELECT `+messageCols+` FROM `+messageFrom+` WHERE m.channel = $1 AND m.ts >= $2 ORDER BY m.ts`, channel, since)
	if err != nil {
		return fmt.Errorf("pgarchive: read %s: %w", channel, err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return fmt.Errorf("pgarchive: read %s: %w", channel, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgarchive: read %s: %w", channel, err)
	}
	return nil
}

const channelCols = `id, name, topic, purpose, created, archived, messages, last`

func scanChannel(row pgx.Row) (archive.Channel, error) {
	var c archive.Channel
	var created int64
	err := row.Scan(&c.ID, &c.Name, &c.Topic, &c.Purpose, &created, &c.Archived, &c.Messages, &c.Last)
	if created > 0 {
		c.Created = time.Unix(created, 0).UTC()
	}
	return c, err
}

// Channel implements archive.Archive.
func (a *Archive) Channel(ctx context.Context, idOrName string) (archive.Channel, bool, error) {
	c, err := scanChannel(a.pool.QueryRow(ctx, `SELECT `+channelCols+` FROM archive_channels WHERE id = $1 OR name = $1
		ORDER BY id = $1 DESC, id LIMIT 1`, idOrName))
	if errors.Is(err, pgx.ErrNoRows) {
		return archive.Channel{}, false, nil
	}
	if err != nil {
		return archive.Channel{}, false, fmt.Errorf("pgarchive: channel %s: %w", idOrName, err)
	}
	return c, true, nil
}

// Channels implements archive.Archive.
func (a *Archive) Channels(ctx context.Context) ([]archive.Channel, error) {
	rows, err := a.pool.Query(ctx, `SELECT `+channelCols+` FROM archive_channels ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("pgarchive: channels: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (archive.Channel, error) { return scanChannel(row) })
	if err != nil {
		return nil, fmt.Errorf("pgarchive: channels: %w", err)
	}
	return out, nil
}

const userCols = `id, name, real_name, display_name, avatar, bot, deleted, opted_out`

func scanUser(row pgx.Row) (archive.User, error) {
	var u archive.User
	err := row.Scan(&u.ID, &u.Name, &u.RealName, &u.DisplayName, &u.Avatar, &u.Bot, &u.Deleted, &u.OptedOut)
	return u, err
}

// User implements archive.Archive.
func (a *Archive) User(ctx context.Context, id string) (archive.User, bool, error) {
	u, err := scanUser(a.pool.QueryRow(ctx, `SELECT `+userCols+` FROM archive_users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return archive.User{}, false, nil
	}
	if err != nil {
		return archive.User{}, false, fmt.Errorf("pgarchive: user %s: %w", id, err)
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
	return a.users(ctx, `SELECT `+userCols+` FROM archive_users WHERE id = ANY($1) ORDER BY id`, ids)
}

func (a *Archive) users(ctx context.Context, query string, args ...any) ([]archive.User, error) {
	rows, err := a.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pgarchive: users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (archive.User, error) { return scanUser(row) })
	if err != nil {
		return nil, fmt.Errorf("pgarchive: users: %w", err)
	}
	return out, nil
}

// Stats implements archive.Archive.
func (a *Archive) Stats(ctx context.Context) (archive.Stats, error) {
	var s archive.Stats
	err := a.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM archive_channels),
		(SELECT coalesce(sum(messages), 0) FROM archive_channels),
		(SELECT count(*) FROM archive_users),
		(SELECT count(*) FROM archive_users WHERE opted_out),
		(SELECT count(*) FROM archive_removed),
		(SELECT coalesce(max(last), '') FROM archive_channels)`).Scan(&s.Channels, &s.Messages, &s.Users, &s.OptedOut, &s.Removed, &s.Newest)
	if err != nil {
		return s, fmt.Errorf("pgarchive: stats: %w", err)
	}
	return s, nil
}
