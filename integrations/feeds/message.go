package feeds

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// Limits of what a post shows. A section's text may hold 3000 characters
// (https://api.slack.com/reference/block-kit/blocks#section); escaping can
// nearly double text made of & < >, so the text shown stays well under.
const (
	maxShownText = 1200
	maxAltText   = 1000 // an image block's alt_text limit is 2000
)

// link is a mrkdwn link to an http(s) URL with an escaped label; "" when
// the URL is not usable. "|" cannot appear in the URL part.
func link(u, label string) string {
	u = httpLink(u)
	if u == "" {
		return ""
	}
	u = strings.ReplaceAll(slackapp.Escape(u), "|", "%7C")
	if label == "" {
		return "<" + u + ">"
	}
	return "<" + u + "|" + slackapp.Escape(label) + ">"
}

// sourceName names where an item was posted, for its "View on" link.
func sourceName(it Item) string {
	switch {
	case strings.HasPrefix(it.Link, "https://x.com/"):
		return "X"
	case strings.HasPrefix(it.Link, "https://bsky.app/"):
		return "Bluesky"
	}
	return ""
}

// itemMessage is one item as posted: who (avatar, name, handle), the
// title linked to the item or the post's text, a quoted post, a picture,
// and a line with the link and the date. Everything from the source is
// escaped, and sections are verbatim, so no item can ping a channel,
// mention anyone or forge a link.
func itemMessage(it Item, loc *time.Location) slackapp.Message {
	var blocks []slack.Block
	who := it.Author.Name
	if who == "" {
		who = it.Author.Handle
	}
	head := "*" + slackapp.Escape(strings.ReplaceAll(who, "*", "")) + "*"
	if it.Author.Handle != "" && it.Author.Handle != who {
		head += " " + slackapp.Escape(it.Author.Handle)
	}
	switch {
	case it.Repost:
		head += " reposted"
	case it.Reply:
		head += " replied"
	}
	if who != "" {
		ctx := []slack.MixedElement{}
		if av := httpLink(it.Author.AvatarURL); av != "" {
			ctx = append(ctx, slack.NewImageBlockElement(av, who))
		}
		ctx = append(ctx, slack.NewTextBlockObject(slack.MarkdownType, head, false, true))
		blocks = append(blocks, slack.NewContextBlock("", ctx...))
	}

	var body strings.Builder
	if it.Title != "" {
		title := slackapp.Escape(it.Title)
		if l := link(it.Link, it.Title); l != "" {
			title = l
		}
		body.WriteString("*" + title + "*")
		if it.Text != "" {
			body.WriteString("\n")
		}
	}
	body.WriteString(slackapp.Escape(truncate(it.Text, maxShownText)))
	if body.Len() > 0 {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, body.String(), false, true), nil, nil))
	}
	if q := it.Quote; q != nil {
		var qb strings.Builder
		qb.WriteString("> *" + slackapp.Escape(q.Author) + "*")
		for line := range strings.SplitSeq(slackapp.Escape(truncate(q.Text, 500)), "\n") {
			qb.WriteString("\n> " + line)
		}
		if l := link(q.Link, "quoted post"); l != "" {
			qb.WriteString("\n> " + l)
		}
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, qb.String(), false, true), nil, nil))
	}
	if it.Image != nil && httpLink(it.Image.URL) != "" {
		alt := truncate(it.Image.Alt, maxAltText)
		if alt == "" {
			alt = "Image from " + who
		}
		blocks = append(blocks, slack.NewImageBlock(httpLink(it.Image.URL), alt, "", nil))
	}
	var foot []string
	if name := sourceName(it); name != "" {
		foot = append(foot, link(it.Link, "View on "+name))
	} else if it.Title == "" {
		foot = append(foot, link(it.Link, "Open"))
	} else if l := link(it.Link, ""); l != "" {
		foot = append(foot, l)
	}
	if !it.Published.IsZero() {
		foot = append(foot, it.Published.In(loc).Format("Jan 2, 15:04"))
	}
	foot = deleteEmpty(foot)
	if len(foot) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, strings.Join(foot, " · "), false, true)))
	}

	summary := it.Title
	if summary == "" {
		summary = it.Text
	}
	text := "New item: "
	if who != "" {
		text = slackapp.Escape(who) + ": "
	}
	text += slackapp.Escape(truncate(strings.ReplaceAll(summary, "\n", " "), 150))
	if l := link(it.Link, ""); l != "" {
		text += " " + l
	}
	return slackapp.Message{Text: text, Blocks: blocks}
}

func deleteEmpty(ss []string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// moreMessage follows a capped batch: how many more items there were,
// with a link to see them at the source.
func moreMessage(b batch) slackapp.Message {
	n := fmt.Sprintf("%d", b.more)
	if b.moreAtLeast {
		n = "More than " + n
	}
	noun := "items"
	if b.more == 1 && !b.moreAtLeast {
		noun = "item"
	}
	from := ""
	if b.moreName != "" {
		from = " from *" + slackapp.Escape(b.moreName) + "*"
	}
	text := fmt.Sprintf("➕ %s more new %s%s since the last check, not posted here to keep the channel readable.", n, noun, from)
	if l := link(b.moreLink, "See them all"); l != "" {
		text += " " + l
	}
	return slackapp.Message{Text: text, Blocks: []slack.Block{
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, text, false, true)),
	}}
}
