package digest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// command is "/townhall digest [#channel] [post]" (staff only; the host
// refuses others): the digest of the last period for the channel named, or
// the one the command was typed in. It previews the digest to the staff
// member alone; with "post" it posts it in the channel. A digest posted
// this way is not claimed: the scheduled one still comes.
func (i *Integration) command(ctx context.Context, r *slackapp.Request) error {
	ref, post := "", false
	for _, w := range strings.Fields(r.Command.Text) {
		switch {
		case strings.EqualFold(w, "post"):
			post = true
		case ref == "":
			ref = w
		default:
			return r.Ephemeral(ctx, slackapp.Message{Text: "Usage: `/townhall digest [#channel] [post]`: one channel at a time."})
		}
	}
	channel := r.ChannelID
	if ref != "" {
		id, err := i.d.ResolveChannel(ctx, ref)
		if errors.Is(err, slackapp.ErrUnknownChannel) {
			return r.Ephemeral(ctx, slackapp.Message{Text: slackapp.Escape(err.Error())})
		}
		if err != nil {
			_ = r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't look that channel up just now; please try again in a minute."})
			return fmt.Errorf("digest: resolve %s: %w", ref, err)
		}
		channel = id
	}
	since, before := i.period(i.now())
	rep, info, messages, err := i.compose(ctx, channel, since, before)
	if err != nil {
		_ = r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't read <#" + channel + ">'s messages just now; please try again in a minute."})
		return fmt.Errorf("digest: %s: %w", channel, err)
	}
	if rep == nil {
		return r.Ephemeral(ctx, slackapp.Message{Text: fmt.Sprintf(
			"<#%s> was quiet: %s by people in the last %d days, and a digest needs at least %d. Nothing to post.",
			channel, plural(messages, "message", "messages"), i.cfg.Days, i.cfg.MinMessages)})
	}
	m := rep.message()
	if !post {
		note := fmt.Sprintf("Preview: only you can see this. `/townhall digest #%s post` posts it in the channel.", slackapp.Escape(info.Name))
		m.Text = note + "\n" + m.Text
		m.Blocks = append([]slack.Block{slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, note, false, false))}, m.Blocks...)
		return r.Ephemeral(ctx, m)
	}
	if _, err := i.d.Poster.Post(ctx, channel, m); err != nil {
		_ = r.Ephemeral(ctx, slackapp.Message{Text: "I couldn't post the digest in <#" + channel + ">: " + slackapp.Escape(postProblem(err))})
		return fmt.Errorf("digest: post to %s: %w", channel, err)
	}
	i.log.InfoContext(ctx, "digest posted on request", "channel", channel, "user", r.UserID)
	return r.Ephemeral(ctx, slackapp.Message{Text: "Posted the digest in <#" + channel + ">."})
}

// postProblem says in a few words why a post failed.
func postProblem(err error) string {
	var se *slackapp.SendError
	if errors.As(err, &se) && slackapp.Permanent(err) {
		return se.Error()
	}
	return "Slack didn't take it just now; please try again in a minute."
}
