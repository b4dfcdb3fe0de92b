package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/slackapp"
)

// Subcommands implements integrations.Subcommander: /townhall archive
// join, status, optout and optin.
func (i *Integration) Subcommands() []integrations.Subcommand {
	return []integrations.Subcommand{
		{Name: "archive join", Summary: "Join every public channel so the archive keeps it", Staff: true,
			Handler: slackapp.HandlerFunc(i.join)},
		{Name: "archive status", Summary: "Show what the archive holds and when it last captured and backed up", Staff: true,
			Handler: slackapp.HandlerFunc(i.status)},
		{Name: "archive export", Usage: "slack|mattermost TEAM [#channel …] [since:YYYY-MM-DD] [attachments]",
			Summary: "Write the archive as a Slack export, or as a Mattermost import, on townhall's server", Staff: true,
			Handler: slackapp.HandlerFunc(i.export)},
		{Name: "archive optout", Summary: "Hide your messages in the public archive and its search",
			Handler: slackapp.HandlerFunc(i.optOut)},
		{Name: "archive optin", Summary: "Show your messages in the public archive again",
			Handler: slackapp.HandlerFunc(i.optIn)},
	}
}

// join joins every public channel that is not archived.
func (i *Integration) join(ctx context.Context, r *slackapp.Request) error {
	var joined, already []string
	var failed []string
	cursor := ""
	for {
		var page []slack.Channel
		err := i.pace.Call(ctx, func() (err error) {
			page, cursor, err = i.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, ExcludeArchived: true, Limit: 200, Types: []string{"public_channel"},
			})
			return err
		})
		if err != nil {
			i.log.Warn("archive join: conversations.list failed", "error", err)
			return r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't list the workspace's channels just now, so I joined none. Please try again in a minute."})
		}
		for _, ch := range page {
			if ch.IsArchived || !isPublicChannel(&ch) {
				continue
			}
			if ch.IsMember {
				already = append(already, ch.Name)
				continue
			}
			if _, _, _, err := i.api.JoinConversationContext(ctx, ch.ID); err != nil {
				i.log.Warn("archive join failed", "channel", ch.ID, "error", err)
				failed = append(failed, ch.Name)
				continue
			}
			i.remember(ch.ID, true)
			joined = append(joined, ch.Name)
		}
		if cursor == "" {
			break
		}
	}
	var b strings.Builder
	switch len(joined) {
	case 0:
		b.WriteString("I was already in every public channel")
	default:
		fmt.Fprintf(&b, "Joined %d channel%s: %s", len(joined), plural(len(joined)), channelList(joined))
	}
	if len(already) > 0 && len(joined) > 0 {
		fmt.Fprintf(&b, " (already in %d)", len(already))
	}
	b.WriteString(".")
	if len(failed) > 0 {
		fmt.Fprintf(&b, "\nCouldn't join %s; the log says why.", channelList(failed))
	}
	if len(joined) > 0 {
		b.WriteString("\nTheir history, as far back as Slack still shows it, arrives with the next catch-up.")
	}
	return r.Ephemeral(ctx, slackapp.Message{Text: b.String()})
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func people(n int) string {
	if n == 1 {
		return "person"
	}
	return "people"
}

func channelList(names []string) string {
	const most = 20
	var parts []string
	for k, n := range names {
		if k == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(names)-most))
			break
		}
		parts = append(parts, "#"+slackapp.Escape(n))
	}
	return strings.Join(parts, ", ")
}

// status shows staff what the archive holds.
func (i *Integration) status(ctx context.Context, r *slackapp.Request) error {
	return r.Ephemeral(ctx, slackapp.Message{Text: "*Archive*\n" + strings.Join(i.Status(ctx), "\n")})
}

// Status implements integrations.Reporter.
func (i *Integration) Status(ctx context.Context) []string {
	s, err := i.a.Stats(ctx)
	if err != nil {
		i.log.Warn("archive status", "error", err)
		return []string{"I couldn't read the archive's numbers just now."}
	}
	lines := []string{
		fmt.Sprintf("%d channel%s, %d message%s, %d %s (%d opted out), %d message%s removed on request",
			s.Channels, plural(s.Channels), s.Messages, plural(s.Messages), s.Users, people(s.Users),
			s.OptedOut, s.Removed, plural(s.Removed)),
	}
	for _, st := range []struct{ key, label string }{
		{StateLastCapture, "Last live capture"},
		{StateLastCatchUp, "Last catch-up"},
		{StateLastBackup, "Last backup"},
	} {
		v, err := i.a.State(ctx, st.key)
		if err != nil {
			v = ""
		}
		lines = append(lines, st.label+": "+i.when(v))
	}
	lines = append(lines, i.filesStatus(ctx)...) // files_keep.go
	if i.cfg.BaseURL != "" {
		lines = append(lines, "Web archive: "+i.cfg.BaseURL)
	}
	return lines
}

// when formats a stored RFC 3339 time (optionally followed by a detail)
// in the community's time zone.
func (i *Integration) when(v string) string {
	if v == "" {
		return "never"
	}
	stamp, detail, _ := strings.Cut(v, " ")
	t, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return slackapp.Escape(v)
	}
	out := t.In(i.loc).Format("Mon 2 Jan 2006 15:04 MST")
	if detail != "" {
		out += " (" + slackapp.Escape(detail) + ")"
	}
	return out
}

func (i *Integration) optOut(ctx context.Context, r *slackapp.Request) error {
	if err := errors.Join(i.a.SetOptOut(ctx, r.UserID, true), i.forgetUserFiles(ctx, r.UserID)); err != nil {
		i.log.Warn("archive opt-out failed", "user", r.UserID, "error", err)
		return r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't record that just now; please try again in a minute."})
	}
	return r.Ephemeral(ctx, slackapp.Message{Text: "Done: your messages now show as \"hidden at the author's request\" in the public archive, and its search no longer finds them. They stay in Slack. `/townhall archive optin` shows them again."})
}

func (i *Integration) optIn(ctx context.Context, r *slackapp.Request) error {
	if err := i.a.SetOptOut(ctx, r.UserID, false); err != nil {
		i.log.Warn("archive opt-in failed", "user", r.UserID, "error", err)
		return r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't record that just now; please try again in a minute."})
	}
	return r.Ephemeral(ctx, slackapp.Message{Text: "Welcome back: your messages show in the public archive and its search again."})
}

// remove is the "Remove from archive" message shortcut: the author or
// staff take one message off the archive's pages, search and exports.
func (i *Integration) remove(ctx context.Context, r *slackapp.Request) error {
	ic := r.Interaction
	if ic == nil || ic.Message.Timestamp == "" {
		return nil
	}
	channel, ts := ic.Channel.ID, ic.Message.Timestamp
	if ic.Message.User != r.UserID {
		staff := false
		if i.d.IsStaff != nil {
			var err error
			if staff, err = i.d.IsStaff(ctx, r.UserID); err != nil {
				i.log.Warn("archive remove: staff check failed", "user", r.UserID, "error", err)
			}
		}
		if !staff {
			return r.Ephemeral(ctx, slackapp.Message{Text: "Only the person who wrote this message, or workspace staff, can remove it from the archive. You can hide all your own messages with `/townhall archive optout`."})
		}
	}
	if err := i.a.Remove(ctx, channel, ts); err != nil {
		i.log.Warn("archive remove failed", "channel", channel, "ts", ts, "error", err)
		return r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't remove that message just now; please try again in a minute."})
	}
	i.forgetMessageFiles(ctx, channel, ts) // files_keep.go
	i.log.Info("archive message removed on request", "channel", channel, "ts", ts, "by", r.UserID)
	return r.Ephemeral(ctx, slackapp.Message{Text: "Removed from the archive: that message no longer appears on the archive's pages, in its search or in later exports. It is still in Slack."})
}
