// Package archive is townhall's archive of the workspace's public channels:
// it captures every message of every public channel the app is in (live,
// and by catch-up after downtime), keeps it behind the Archive interface,
// answers /townhall archive subcommands and the "Remove from archive"
// shortcut, and writes scheduled backups in Slack's export format.
//
// Its subpackages do the rest: sqlitearchive stores the archive in the
// app's SQLite database with FTS5 full-text search, web serves the public
// web archive, and slackexport reads and writes Slack export zips.
//
// Only public channels are ever stored: a message from a private channel, a
// group DM or a DM is dropped whatever Slack delivers.
//
// It imports integrations, slackapp, scheduler and store; it must never
// import another integration or cmd/townhall.
package archive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Archive is where the archive is kept. The SQLite implementation is
// sqlitearchive; a PostgreSQL one with its own full-text search can replace
// it by implementing this interface. Every method honours ctx and is safe
// for concurrent use. Writes are idempotent: a message is keyed by
// (channel, ts), so storing it again, live, by catch-up or by import,
// leaves one message.
type Archive interface {
	// PutChannel creates or updates a channel's metadata.
	PutChannel(ctx context.Context, c Channel) error
	// PutUser creates or updates a user's names and avatar; it never
	// changes the user's opt-out.
	PutUser(ctx context.Context, u User) error
	// PutMessages stores messages, replacing any stored message with the
	// same (channel, ts) unless the stored one is a later edit. Messages
	// removed from the archive (see Remove) are skipped. It reports how
	// many were new.
	PutMessages(ctx context.Context, ms []Message) (added int, err error)
	// Delete drops a message deleted in Slack from the archive for good.
	Delete(ctx context.Context, channel, ts string) error
	// Remove drops a message from the archive at someone's request and
	// remembers it, so no catch-up, import or export brings it back.
	Remove(ctx context.Context, channel, ts string) error
	// SetOptOut hides (or shows again) every message by user.
	SetOptOut(ctx context.Context, user string, out bool) error

	// Channel returns a channel by ID or by name (without "#").
	Channel(ctx context.Context, idOrName string) (Channel, bool, error)
	// Channels lists every archived channel, with counts, by name.
	Channels(ctx context.Context) ([]Channel, error)
	// User returns a user by ID.
	User(ctx context.Context, id string) (User, bool, error)
	// Users lists every known user, by ID.
	Users(ctx context.Context) ([]User, error)
	// UsersByID returns the known users among ids, by ID, in one query
	// (unknown IDs are left out), as a page showing many authors needs.
	UsersByID(ctx context.Context, ids []string) ([]User, error)
	// Message returns one message, with its reply count.
	Message(ctx context.Context, channel, ts string) (Message, bool, error)
	// Messages lists a channel's messages matching q, oldest first unless
	// q.Desc.
	Messages(ctx context.Context, q MessageQuery) ([]Message, error)
	// Each calls fn for every message of channel with ts >= since, oldest
	// first, streaming (for exports); messages by opted-out users are
	// included with Hidden set.
	Each(ctx context.Context, channel, since string, fn func(Message) error) error
	// Search runs a full-text search; messages by opted-out users never
	// match. It stops at ctx's deadline with an error wrapping ErrTooBroad,
	// or ErrBusy when too many searches ran for it to start.
	Search(ctx context.Context, q Query) (Results, error)
	// Stats counts what is archived.
	Stats(ctx context.Context) (Stats, error)
	// State and SetState keep small named values (last capture, last backup).
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
}

// Message is one archived Slack message.
type Message struct {
	Channel   string
	TS        string // Slack's "1700000000.000100", the message's ID in its channel
	ThreadTS  string // the parent's ts for a thread reply or parent; "" otherwise
	User      string // author's user ID; "" for some bot messages
	Username  string // bot or integration name, when User is empty
	BotID     string
	Subtype   string // "", "bot_message", "channel_join", "file_share", "thread_broadcast"…
	Text      string // Slack mrkdwn, as Slack sends it (& < > escaped)
	Edited    string // ts of the last edit; "" if never edited
	Files     []File
	Reactions []Reaction

	// Filled on read.
	ReplyCount int // replies archived under this message (parents only)
	LastReply  string
	Hidden     bool // the author opted out: show "hidden at the author's request"
}

// IsReply reports whether m is a reply in a thread (not its parent).
func (m Message) IsReply() bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

// Time is the message's time.
func (m Message) Time() time.Time { t, _ := ParseTS(m.TS); return t }

// File is a shared file, kept as a link; with TOWNHALL_ARCHIVE_FILES its
// content is kept too (FileIndex, files.go).
type File struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Title     string `json:"title,omitempty"`
	Mimetype  string `json:"mimetype,omitempty"`
	Permalink string `json:"permalink,omitempty"`
}

// Reaction is an emoji reaction and who added it.
type Reaction struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Users []string `json:"users,omitempty"`
}

// Channel is an archived public channel.
type Channel struct {
	ID       string
	Name     string // without "#"
	Topic    string
	Purpose  string
	Created  time.Time
	Archived bool

	// Filled on read by Channels.
	Messages int
	Last     string // ts of the newest message
}

// User is a member as the archive shows them.
type User struct {
	ID          string
	Name        string // the handle
	RealName    string
	DisplayName string
	Avatar      string // URL of a small avatar
	Bot         bool
	Deleted     bool
	OptedOut    bool // read-only here: change it with SetOptOut
}

// Label is the name shown for the user: display name, real name or handle.
func (u User) Label() string {
	for _, s := range []string{u.DisplayName, u.RealName, u.Name} {
		if s != "" {
			return s
		}
	}
	return u.ID
}

// MessageQuery selects a channel's messages by time.
type MessageQuery struct {
	Channel  string
	Since    string   // ts, inclusive; "" for no bound
	Before   string   // ts, exclusive; "" for no bound
	ThreadTS string   // only this thread (parent and replies)
	Threads  []string // only these threads (parents and replies), in one query; empty: no such bound
	TopLevel bool     // only messages not in a thread, and thread parents
	Replies  bool     // only thread replies (not their parents)
	Desc     bool     // newest first
	Limit    int      // 0: no limit
}

// Stats is what /townhall archive status shows.
type Stats struct {
	Channels int
	Messages int
	Users    int
	OptedOut int
	Removed  int
	Newest   string // ts of the newest message
}

// Results are one page of search results.
type Results struct {
	Hits []Hit
	More bool // another page follows
	// Count is how many messages match, counted up to CountLimit;
	// CountMore says there are more than that ("more than 1,000
	// results").
	Count     int
	CountMore bool
}

// CountLimit is where Search stops counting matches (Results.Count).
const CountLimit = 1000

// Hit is one matching message.
type Hit struct {
	Message
	ChannelName string
}

// Bulk is implemented by an archive that writes a long run of large
// PutMessages calls (an import) faster when told so. Import calls
// BeginBulk before its first batch of messages and end after its last.
type Bulk interface {
	// BeginBulk readies the archive for many large PutMessages calls in a
	// row; end returns it to its usual state. Neither changes what is
	// stored, nor what a crash in between leaves: only speed and memory.
	BeginBulk(ctx context.Context) (end func(context.Context) error, err error)
}

// Keys of Archive.State.
const (
	StateLastCapture = "last_capture" // RFC 3339 time of the last message captured
	StateLastBackup  = "last_backup"  // RFC 3339 time and file of the last backup
	StateLastCatchUp = "last_catchup" // RFC 3339 time of the last finished catch-up
)

// ErrBadTS is returned for a malformed Slack timestamp.
var ErrBadTS = errors.New("not a Slack timestamp")

// NormalizeTS returns ts in the canonical form "SSSSSSSSSS.UUUUUU" (ten
// digits of seconds, six of microseconds), which sorts as text in time
// order. Slack always sends this form; exports and URLs may not.
func NormalizeTS(ts string) (string, error) {
	sec, frac, _ := strings.Cut(ts, ".")
	if len(sec) == 10 && len(frac) == 6 && digits(sec) && digits(frac) {
		return ts, nil // canonical already: what an import and the archive hold
	}
	if sec == "" || len(sec) > 10 || len(frac) > 6 || !digits(sec) || !digits(frac) {
		return "", fmt.Errorf("%w: %q", ErrBadTS, ts)
	}
	s, _ := strconv.ParseInt(sec, 10, 64)
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return fmt.Sprintf("%010d.%06d", s, f), nil
}

// ParseTS returns the time of a Slack timestamp.
func ParseTS(ts string) (time.Time, error) {
	n, err := NormalizeTS(ts)
	if err != nil {
		return time.Time{}, err
	}
	s, _ := strconv.ParseInt(n[:10], 10, 64)
	us, _ := strconv.ParseInt(n[11:], 10, 64)
	return time.Unix(s, us*1000).UTC(), nil
}

// FormatTS returns the canonical Slack timestamp of t (microseconds).
func FormatTS(t time.Time) string {
	us := t.UnixMicro()
	if us < 0 {
		us = 0
	}
	return fmt.Sprintf("%010d.%06d", us/1e6, us%1e6)
}

// TSDigits is ts without its dot, as in Slack permalinks ("p1700000000000100").
func TSDigits(ts string) string { return strings.Replace(ts, ".", "", 1) }

// TSFromDigits reverses TSDigits.
func TSFromDigits(d string) (string, error) {
	if len(d) < 7 || len(d) > 16 || !digits(d) {
		return "", fmt.Errorf("%w: %q", ErrBadTS, d)
	}
	return NormalizeTS(d[:len(d)-6] + "." + d[len(d)-6:])
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
