package archive

import (
	"archive/zip"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The Slack export format (https://slack.com/help/articles/220556107):
// channels.json and users.json at the top, then one folder per channel
// holding one JSON array of messages per day, named YYYY-MM-DD.json (days
// in UTC here). Private conversations live in groups.json, dms.json and
// mpims.json and their folders; the archive never reads or writes them.

// exportMessage is a message as Slack exports it: only the fields the
// archive keeps are declared (see lenient.go for the forms each accepts).
type exportMessage struct {
	Type        string             `json:"type"`
	Subtype     string             `json:"subtype,omitempty"`
	User        string             `json:"user,omitempty"`
	Username    string             `json:"username,omitempty"`
	BotID       string             `json:"bot_id,omitempty"`
	Text        string             `json:"text"`
	TS          lenientTS          `json:"ts"`
	ThreadTS    lenientTS          `json:"thread_ts,omitzero"`
	Edited      *exportEdited      `json:"edited,omitempty"`
	Files       []exportFile       `json:"files,omitempty"`
	File        *exportFile        `json:"file,omitempty"` // before 2019: the one file of a file_share
	Reactions   []exportReaction   `json:"reactions,omitempty"`
	Attachments []exportAttachment `json:"attachments,omitempty"`
	BotProfile  *struct {
		Name string `json:"name"`
	} `json:"bot_profile,omitempty"`
	UserProfile *exportProfile `json:"user_profile,omitempty"` // since 2017: the author as they were
}

// problems records in p what of e could not be read.
func (e *exportMessage) problems(p *problems, i int) {
	if !hasJunk(e.TS.junk, e.ThreadTS.junk, e.editedJunk()) && !e.reactionJunk() {
		return
	}
	what := e.what(i)
	p.check(what, namedJunk{"ts", e.TS.junk}, namedJunk{"thread_ts", e.ThreadTS.junk}, namedJunk{"edited.ts", e.editedJunk()})
	for _, r := range e.Reactions {
		p.check(what, namedJunk{"reactions." + r.Name + ".count", r.Count.junk})
	}
}

// what names the message for the import report: by its ts, or by its
// place in the file.
func (e *exportMessage) what(i int) string {
	if e.TS.S != "" {
		return "message " + e.TS.S
	}
	return fmt.Sprintf("message %d", i+1)
}

func (e *exportMessage) editedJunk() string {
	if e.Edited == nil {
		return ""
	}
	return e.Edited.TS.junk
}

func (e *exportMessage) reactionJunk() bool {
	for _, r := range e.Reactions {
		if r.Count.junk != "" {
			return true
		}
	}
	return false
}

func hasJunk(js ...string) bool {
	for _, j := range js {
		if j != "" {
			return true
		}
	}
	return false
}

type exportEdited struct {
	User string    `json:"user,omitempty"`
	TS   lenientTS `json:"ts"`
}

type exportReaction struct {
	Name  string     `json:"name"`
	Count lenientInt `json:"count"`
	Users []string   `json:"users,omitempty"`
}

type exportFile struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	Title      string `json:"title,omitempty"`
	Mimetype   string `json:"mimetype,omitempty"`
	Permalink  string `json:"permalink,omitempty"`
	URLPrivate string `json:"url_private,omitempty"`
}

type exportAttachment struct {
	Fallback string `json:"fallback,omitempty"`
	Text     string `json:"text,omitempty"`
	Pretext  string `json:"pretext,omitempty"`
	Title    string `json:"title,omitempty"`
}

type exportText struct {
	Value   string     `json:"value"`
	Creator string     `json:"creator"`
	LastSet lenientInt `json:"last_set"`
}

type exportChannel struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Created    lenientInt  `json:"created"`
	Creator    string      `json:"creator"`
	IsArchived lenientBool `json:"is_archived"`
	IsGeneral  lenientBool `json:"is_general"`
	IsPrivate  lenientBool `json:"is_private,omitzero"` // read on import only: exports list public channels
	Members    []string    `json:"members"`
	Topic      exportText  `json:"topic"`
	Purpose    exportText  `json:"purpose"`
}

// problems records in p what of c could not be read.
// what names c in the import report: by name, else ID, else position.
func (c *exportChannel) what(i int) string { return "channel " + cmp.Or(c.Name, c.ID, fmt.Sprint(i+1)) }

func (c *exportChannel) problems(p *problems, i int) {
	p.check(c.what(i), namedJunk{"created", c.Created.junk}, namedJunk{"is_archived", c.IsArchived.junk},
		namedJunk{"is_private", c.IsPrivate.junk}, namedJunk{"is_general", c.IsGeneral.junk},
		namedJunk{"topic.last_set", c.Topic.LastSet.junk}, namedJunk{"purpose.last_set", c.Purpose.LastSet.junk})
}

type exportProfile struct {
	RealName    string `json:"real_name"`
	DisplayName string `json:"display_name"`
	Image48     string `json:"image_48,omitempty"`
	Image72     string `json:"image_72,omitempty"`
}

type exportUser struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	RealName string        `json:"real_name,omitempty"`
	Deleted  lenientBool   `json:"deleted"`
	IsBot    lenientBool   `json:"is_bot"`
	Profile  exportProfile `json:"profile"`
}

// problems records in p what of u could not be read.
// what names u in the import report: by name, else ID, else position.
func (u *exportUser) what(i int) string { return "user " + cmp.Or(u.Name, u.ID, fmt.Sprint(i+1)) }

func (u *exportUser) problems(p *problems, i int) {
	p.check(u.what(i), namedJunk{"deleted", u.Deleted.junk}, namedJunk{"is_bot", u.IsBot.junk})
}

func (e *exportMessage) message(channel string) Message {
	m := Message{Channel: channel, TS: e.TS.S, ThreadTS: e.ThreadTS.S, User: e.User, Username: e.Username,
		BotID: e.BotID, Subtype: e.Subtype, Text: e.Text}
	if m.Username == "" && e.BotProfile != nil {
		m.Username = e.BotProfile.Name
	}
	if e.Edited != nil {
		m.Edited = e.Edited.TS.S
	}
	if len(e.Files) == 0 && e.File != nil {
		e.Files = []exportFile{*e.File}
	}
	for _, f := range e.Files {
		if f.ID == "" && f.Name == "" && f.Permalink == "" && f.URLPrivate == "" {
			continue // {"mode": "tombstone"} or another placeholder
		}
		m.Files = append(m.Files, File{ID: f.ID, Name: f.Name, Title: f.Title, Mimetype: f.Mimetype,
			Permalink: firstOf(f.Permalink, f.URLPrivate)})
	}
	for _, r := range e.Reactions {
		if r.Name == "" {
			continue
		}
		n := int(r.Count.N)
		if n < len(r.Users) {
			n = len(r.Users)
		}
		m.Reactions = append(m.Reactions, Reaction{Name: r.Name, Count: n, Users: r.Users})
	}
	if m.Text == "" {
		for _, a := range e.Attachments {
			if t := firstOf(a.Fallback, a.Text, a.Pretext, a.Title); t != "" {
				m.Text += t + "\n"
			}
		}
	}
	return m
}

func exportOf(m Message) exportMessage {
	e := exportMessage{Type: "message", Subtype: m.Subtype, User: m.User, Username: m.Username, BotID: m.BotID,
		Text: m.Text, TS: lenientTS{S: m.TS}, ThreadTS: lenientTS{S: m.ThreadTS}}
	if m.Edited != "" {
		e.Edited = &exportEdited{User: m.User, TS: lenientTS{S: m.Edited}}
	}
	for _, f := range m.Files {
		e.Files = append(e.Files, exportFile{ID: f.ID, Name: f.Name, Title: f.Title, Mimetype: f.Mimetype,
			Permalink: f.Permalink, URLPrivate: f.Permalink})
	}
	for _, r := range m.Reactions {
		e.Reactions = append(e.Reactions, exportReaction{Name: r.Name, Count: lenientInt{N: int64(r.Count)}, Users: r.Users})
	}
	return e
}

// ExportOptions choose what Export writes.
type ExportOptions struct {
	Since    time.Time // only messages from then on; zero: everything
	Channels []string  // channel names or IDs; empty: every channel
	// Files, when set, are the archive's kept files (TOWNHALL_ARCHIVE_FILES):
	// each exported message's kept file goes into the zip as
	// __uploads/<file ID>/<name> (files_export.go).
	Files Blobs
}

// ErrNoSuchChannel is returned by Export when a channel it was asked for is
// not in the archive.
var ErrNoSuchChannel = errors.New("no such channel in the archive")

// ExportStats count what Export wrote.
type ExportStats struct {
	Channels int
	Days     int
	Messages int
	Hidden   int // messages by opted-out members, left out
	Files    int // kept files included (ExportOptions.Files)
}

// Export writes the archive to w as a Slack export zip, which
// slack-export-viewer and Mattermost's `mmetl transform slack` read, and
// which Import reads back into the same archive. Messages removed on
// request are not in the archive, so not in the export; messages by
// members who opted out are left out too. It streams: one day of one
// channel is in memory at a time.
func Export(ctx context.Context, a Archive, w io.Writer, o ExportOptions) (ExportStats, error) {
	var st ExportStats
	zw := zip.NewWriter(w)
	channels, err := a.Channels(ctx)
	if err != nil {
		return st, fmt.Errorf("archive: export: %w", err)
	}
	if len(o.Channels) > 0 {
		var missing []string
		for _, want := range o.Channels {
			want = strings.TrimPrefix(want, "#")
			if !slices.ContainsFunc(channels, func(c Channel) bool { return c.Name == want || c.ID == want }) {
				missing = append(missing, "#"+want)
			}
		}
		if len(missing) > 0 {
			return st, fmt.Errorf("archive: export: %w: %s", ErrNoSuchChannel, strings.Join(missing, ", "))
		}
		channels = slices.DeleteFunc(channels, func(c Channel) bool {
			return !slices.ContainsFunc(o.Channels, func(want string) bool {
				want = strings.TrimPrefix(want, "#")
				return c.Name == want || c.ID == want
			})
		})
	}
	users, err := a.Users(ctx)
	if err != nil {
		return st, fmt.Errorf("archive: export: %w", err)
	}
	eu := make([]exportUser, 0, len(users))
	for _, u := range users {
		x := exportUser{ID: u.ID, Name: u.Name, RealName: u.RealName, Deleted: lenientBool{B: u.Deleted}, IsBot: lenientBool{B: u.Bot}}
		x.Profile.RealName, x.Profile.DisplayName, x.Profile.Image48 = u.RealName, u.DisplayName, u.Avatar
		eu = append(eu, x)
	}
	ec := make([]exportChannel, 0, len(channels))
	for _, c := range channels {
		x := exportChannel{ID: c.ID, Name: c.Name, IsArchived: lenientBool{B: c.Archived}, IsGeneral: lenientBool{B: c.Name == "general"}, Members: []string{},
			Topic: exportText{Value: c.Topic}, Purpose: exportText{Value: c.Purpose}}
		if !c.Created.IsZero() {
			x.Created = lenientInt{N: c.Created.Unix()}
		}
		ec = append(ec, x)
	}
	if err := writeJSON(zw, "users.json", eu); err != nil {
		return st, err
	}
	if err := writeJSON(zw, "channels.json", ec); err != nil {
		return st, err
	}
	since := ""
	if !o.Since.IsZero() {
		since = FormatTS(o.Since)
	}
	var files exportFiles
	for _, c := range channels {
		st.Channels++
		var day string
		var msgs []exportMessage
		flush := func() error {
			if len(msgs) == 0 {
				return nil
			}
			st.Days++
			err := writeJSON(zw, exportDir(c)+"/"+day+".json", msgs)
			msgs = msgs[:0]
			return err
		}
		err := a.Each(ctx, c.ID, since, func(m Message) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if m.Hidden {
				st.Hidden++
				return nil
			}
			d := m.Time().Format(DateLayout)
			if d != day {
				if err := flush(); err != nil {
					return err
				}
				day = d
			}
			msgs = append(msgs, exportOf(m))
			files.note(m)
			st.Messages++
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return st, fmt.Errorf("archive: export #%s: %w", c.Name, err)
		}
	}
	if err := files.write(ctx, a, zw, o.Files, &st); err != nil {
		return st, err
	}
	if err := zw.Close(); err != nil {
		return st, fmt.Errorf("archive: export: %w", err)
	}
	return st, nil
}

// exportDir is a channel's folder in an export: its name, or its ID when
// the name cannot be a folder.
func exportDir(c Channel) string {
	if c.Name == "" || strings.ContainsAny(c.Name, `/\.`) {
		return c.ID
	}
	return c.Name
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	f, err := zw.Create(name)
	if err != nil {
		return fmt.Errorf("archive: export %s: %w", name, err)
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("archive: export %s: %w", name, err)
	}
	return nil
}

// backupPrefix starts every backup's file name.
const backupPrefix = "townhall-archive-"

// Backup writes the whole archive as a Slack export into dir, named for at
// (townhall-archive-20240301T020000Z.zip), then deletes the oldest backups
// so that keep remain. The file appears complete or not at all.
func Backup(ctx context.Context, a Archive, dir string, keep int, at time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("archive: backup: %w", err)
	}
	name := filepath.Join(dir, backupPrefix+at.UTC().Format("20060102T150405Z")+".zip")
	var st ExportStats
	if _, err := WriteFile(name, func(w io.Writer) (err error) {
		st, err = Export(ctx, a, w, ExportOptions{})
		return err
	}); err != nil {
		return "", fmt.Errorf("archive: backup %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return name, fmt.Errorf("archive: backup: prune: %w", err)
	}
	var backups []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), backupPrefix) && strings.HasSuffix(e.Name(), ".zip") {
			backups = append(backups, e.Name())
		}
	}
	slices.Sort(backups)
	var errs []error
	for len(backups) > keep {
		errs = append(errs, os.Remove(filepath.Join(dir, backups[0])))
		backups = backups[1:]
	}
	if err := errors.Join(errs...); err != nil {
		return name, fmt.Errorf("archive: backup: prune: %w", err)
	}
	detail := fmt.Sprintf("%s %s, %d messages", at.UTC().Format(time.RFC3339), filepath.Base(name), st.Messages)
	return name, a.SetState(ctx, StateLastBackup, detail)
}
