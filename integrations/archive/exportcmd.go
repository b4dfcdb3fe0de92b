package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// exportUsage answers /townhall archive export without the right words.
const exportUsage = "*Export the archive* (staff only). The file is written on townhall's server, not sent to Slack.\n" +
	"• `/townhall archive export slack [#channel …] [since:2024-01-31]`: a Slack export zip, which townhall, slack-export-viewer and Mattermost's mmetl read\n" +
	"• `/townhall archive export mattermost TEAM [#channel …] [since:2024-01-31] [attachments]`: Mattermost's bulk import zip for `mmctl import upload`, into the team named TEAM (as in its URL); `attachments` also fetches the files Slack still has\n" +
	"Without channels every archived channel is exported; without `since:` all of its history."

// exportMaxDuration bounds one export started from Slack; a Mattermost
// export with attachments of a large archive paces its files.info calls
// for hours.
const exportMaxDuration = 24 * time.Hour

// exportRequest is a parsed /townhall archive export.
type exportRequest struct {
	format      string // "slack" or "mattermost"
	team        string
	channels    []string // names or IDs
	since       time.Time
	attachments bool
}

// slashChannel is a channel as a slash command's text carries it: <#C1|name>
// or <#C1> when Slack escapes it, #name when it does not.
var slashChannel = regexp.MustCompile(`^<#([A-Z0-9]+)(?:\|[^>]*)?>$`)

// parseExport reads the words after "archive export"; the error is what to
// tell the user, ahead of the usage.
func parseExport(text string, loc *time.Location) (exportRequest, error) {
	words := strings.Fields(text)
	if len(words) == 0 {
		return exportRequest{}, errors.New("Say which format: `slack` or `mattermost`.")
	}
	first := words[0]
	req := exportRequest{format: strings.ToLower(first)}
	words = words[1:]
	switch req.format {
	case "slack":
	case "mattermost":
		if len(words) == 0 || strings.HasPrefix(words[0], "#") || strings.HasPrefix(words[0], "<") || strings.Contains(words[0], ":") {
			return req, errors.New("Say which Mattermost team the channels go into, e.g. `/townhall archive export mattermost community`.")
		}
		req.team = strings.ToLower(words[0])
		if err := CheckMattermostTeam(req.team); err != nil {
			return req, fmt.Errorf("`%s` is %w.", slackapp.Escape(words[0]), ErrBadTeam)
		}
		words = words[1:]
	default:
		return req, fmt.Errorf("I can't export to `%s`: say `slack` or `mattermost`.", slackapp.Escape(first))
	}
	for _, w := range words {
		switch low := strings.ToLower(w); {
		case strings.HasPrefix(low, "since:"):
			d, err := time.ParseInLocation(DateLayout, w[len("since:"):], loc)
			if err != nil {
				return req, fmt.Errorf("`%s`: write the day as since:YYYY-MM-DD.", slackapp.Escape(w))
			}
			req.since = d
		case low == "attachments" || low == "files":
			if req.format != "mattermost" {
				return req, errors.New("`attachments` goes with the Mattermost export only (a Slack export links to Slack's files).")
			}
			req.attachments = true
		case slashChannel.MatchString(w):
			req.channels = append(req.channels, slashChannel.FindStringSubmatch(w)[1])
		case strings.HasPrefix(w, "#") && len(w) > 1:
			req.channels = append(req.channels, w[1:])
		default:
			return req, fmt.Errorf("I don't understand `%s` here.", slackapp.Escape(w))
		}
	}
	return req, nil
}

// exportDir is where /townhall archive export writes.
func (i *Integration) exportDir() string {
	switch {
	case i.cfg.ExportDir != "":
		return i.cfg.ExportDir
	case i.cfg.BackupDir != "":
		return i.cfg.BackupDir
	}
	return "exports"
}

// export starts the export a staff member asked for and says where it goes;
// it runs beyond the command's time limit, one at a time, and says again,
// to the same person, when the file is written or why it is not.
func (i *Integration) export(ctx context.Context, r *slackapp.Request) error {
	req, err := parseExport(r.Command.Text, i.loc)
	if err != nil {
		return r.Ephemeral(ctx, slackapp.Message{Text: err.Error() + "\n\n" + exportUsage})
	}
	all, err := i.a.Channels(ctx)
	if err != nil {
		i.log.Warn("archive export: list channels", "error", err)
		return r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't read the archive just now, so nothing is exported. Please try again in a minute."})
	}
	channels, err := selectChannels(all, req.channels)
	if errors.Is(err, ErrNoSuchChannel) {
		return r.Ephemeral(ctx, slackapp.Message{Text: fmt.Sprintf("The archive has no %s, so nothing is exported.", slackapp.Escape(strings.TrimPrefix(err.Error(), ErrNoSuchChannel.Error()+": ")))})
	}
	if len(channels) == 0 {
		return r.Ephemeral(ctx, slackapp.Message{Text: "The archive holds no channel yet, so there is nothing to export."})
	}
	if !i.exporting.TryLock() {
		return r.Ephemeral(ctx, slackapp.Message{Text: "Another export is running. I'll take this one when it has finished: please ask again then."})
	}
	dir, err := filepath.Abs(i.exportDir())
	if err == nil {
		err = os.MkdirAll(dir, 0o750)
	}
	if err != nil {
		i.exporting.Unlock()
		i.log.Error("archive export: the export directory", "dir", dir, "error", err)
		return r.Ephemeral(ctx, slackapp.Message{Text: fmt.Sprintf("I can't write to `%s`, so nothing is exported; the log says why (see TOWNHALL_ARCHIVE_EXPORT_DIR).", slackapp.Escape(dir))})
	}
	stamp := i.now().UTC().Format("20060102T150405Z")
	name := "slack-export-" + stamp + ".zip"
	what := "a Slack export"
	if req.format == "mattermost" {
		name = "mattermost-" + req.team + "-" + stamp + ".zip"
		what = "a Mattermost import for team `" + req.team + "`"
	}
	path := filepath.Join(dir, name)
	scope := fmt.Sprintf("every channel (%d)", len(channels))
	if len(req.channels) > 0 {
		scope = channelNames(channels)
	}
	if !req.since.IsZero() {
		scope += " since " + req.since.Format("2 January 2006")
	}
	if err := r.Ephemeral(ctx, slackapp.Message{Text: fmt.Sprintf("Exporting %s as %s to `%s`. I'll tell you here when it is written.", scope, what, slackapp.Escape(path))}); err != nil {
		i.exporting.Unlock()
		return err
	}
	i.log.Info("archive export started", "format", req.format, "path", path, "channels", len(channels), "by", r.UserID)
	go func() {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), exportMaxDuration)
		answer := i.runExport(bg, req, path)
		cancel()
		i.exporting.Unlock() // before saying so: the next export may start at once
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer acancel()
		if err := r.Ephemeral(actx, slackapp.Message{Text: answer}); err != nil {
			i.log.Warn("archive export: could not say it was done", "path", path, "error", err)
		}
	}()
	return nil
}

// runExport writes the export and returns what to tell the staff member.
func (i *Integration) runExport(ctx context.Context, req exportRequest, path string) string {
	start := i.now()
	var summary string
	size, err := WriteFile(path, func(w io.Writer) error {
		if req.format == "slack" {
			st, err := Export(ctx, i.a, w, ExportOptions{Since: req.since, Channels: req.channels, Files: i.keptBlobs()})
			summary = fmt.Sprintf("%d channel%s, %d day%s, %d message%s", st.Channels, plural(st.Channels), st.Days, plural(st.Days), st.Messages, plural(st.Messages))
			if st.Hidden > 0 {
				summary += fmt.Sprintf(" (%d by members who opted out, left out)", st.Hidden)
			}
			return err
		}
		o := MattermostOptions{Team: req.team, Since: req.since, Channels: req.channels, TempDir: filepath.Dir(path), Now: i.now}
		if req.attachments {
			o.Files = &MattermostFiles{API: i.api, Dir: filepath.Join(filepath.Dir(path), "mattermost-files"), Pace: i.cfg.APIPace, Now: i.now,
				Blobs: i.keptBlobs()} // files_keep.go
		}
		st, err := ExportMattermost(ctx, i.a, w, o)
		summary = mattermostSummary(st)
		return err
	})
	if err != nil {
		i.log.Error("archive export failed", "path", path, "error", err)
		return fmt.Sprintf("The export to `%s` failed, so no file was written: %s", slackapp.Escape(path), slackapp.Escape(err.Error()))
	}
	i.log.Info("archive export written", "path", path, "bytes", size, "took", i.now().Sub(start).Round(time.Second))
	text := fmt.Sprintf("Export written: `%s` (%s): %s.", slackapp.Escape(path), Bytes(size), summary)
	if req.format == "mattermost" {
		text += fmt.Sprintf("\nNext, on the Mattermost server: `mmctl import upload %s`, then `mmctl import list available` and `mmctl import process <the name it lists>` (README, \"Moving to Mattermost\").", slackapp.Escape(filepath.Base(path)))
	}
	return text
}

// mattermostSummary says what a Mattermost export holds, in a sentence.
func mattermostSummary(st MattermostStats) string {
	s := fmt.Sprintf("%d channel%s, %d user%s, %d post%s and %d repl%s", st.Channels, plural(st.Channels), st.Users, plural(st.Users),
		st.Posts, plural(st.Posts), st.Replies, pluralY(st.Replies))
	if st.Hidden > 0 {
		s += fmt.Sprintf("; %d message%s by members who opted out left out", st.Hidden, plural(st.Hidden))
	}
	if st.Orphans > 0 {
		s += fmt.Sprintf("; %d thread%s whose first message was never archived, led by their first reply", st.Orphans, plural(st.Orphans))
	}
	if st.Files > 0 || len(st.Missing) > 0 {
		s += fmt.Sprintf("; %d file%s included", st.Files, plural(st.Files))
	}
	if n := len(st.Missing); n > 0 {
		s += fmt.Sprintf(", %d Slack no longer has (their links stay in the messages)", n)
	}
	return s
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

// channelNames lists channels as #a, #b and #c.
func channelNames(cs []Channel) string {
	names := make([]string, len(cs))
	for k, c := range cs {
		names[k] = c.Name
	}
	return channelList(names)
}
