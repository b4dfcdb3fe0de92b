package feeds

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/slackapp"
)

// Limits of what a post shows. A section's text may hold 3000 characters
// (https://api.slack.com/reference/block-kit/blocks#section); escaping can
// nearly double text made of & < >, so the text shown stays well under.
const (
	maxShownText = 1200
	maxAltText   = 1000 // an image block's alt_text limit is 2000
	// maxSectionText keeps a section's or context's text under Slack's
	// 3000 characters, counting what escaping adds (& is 5 characters).
	maxSectionText = 2900
	// maxLinkURL bounds the URL of a mrkdwn link, so a link and its label
	// fit in one text; a longer link is left out.
	maxLinkURL = 2000
	// maxLabel bounds a link's escaped label (an item's title).
	maxLabel = 600
	// maxName bounds an author's name and handle: a feed's title is used
	// as its author's name, and is also an image's alt text.
	maxName = 200
)

// escapeWithin escapes s for mrkdwn and, if the escaped text is longer than
// max characters, cuts it (never inside an entity) to end with "…".
func escapeWithin(s string, max int) string {
	e := slackapp.Escape(s)
	if utf8.RuneCountInString(e) <= max {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := slackapp.Escape(string(r))
		k := utf8.RuneCountInString(piece)
		if n+k > max-1 {
			break
		}
		b.WriteString(piece)
		n += k
	}
	return strings.TrimRight(b.String(), " \n") + "…"
}

// link is a mrkdwn link to an http(s) URL with an escaped label; "" when
// the URL is not usable. "|" cannot appear in the URL part.
func link(u, label string) string {
	u = httpLink(u)
	if u == "" {
		return ""
	}
	u = strings.ReplaceAll(slackapp.Escape(u), "|", "%7C")
	if utf8.RuneCountInString(u) > maxLinkURL {
		return ""
	}
	if label == "" {
		return "<" + u + ">"
	}
	return "<" + u + "|" + escapeWithin(label, maxLabel) + ">"
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
	who, handle := truncate(it.Author.Name, maxName), truncate(it.Author.Handle, maxName)
	if who == "" {
		who = handle
	}
	head := "*" + slackapp.Escape(strings.ReplaceAll(who, "*", "")) + "*"
	if handle != "" && handle != who {
		head += " " + slackapp.Escape(handle)
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
		title := escapeWithin(it.Title, maxLabel)
		if l := link(it.Link, it.Title); l != "" {
			title = l
		}
		body.WriteString("*" + title + "*")
		if it.Text != "" {
			body.WriteString("\n")
		}
	}
	body.WriteString(escapeWithin(truncate(it.Text, maxShownText), maxSectionText-utf8.RuneCountInString(body.String())))
	if body.Len() > 0 {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, body.String(), false, true), nil, nil))
	}
	if q := it.Quote; q != nil {
		var qb strings.Builder
		qb.WriteString("> *" + escapeWithin(q.Author, maxName) + "*")
		ql := link(q.Link, "quoted post")
		// Each line gains "> ": a third of what is left is always enough.
		room := (maxSectionText - utf8.RuneCountInString(qb.String()) - utf8.RuneCountInString(ql) - 3) / 3
		for line := range strings.SplitSeq(escapeWithin(truncate(q.Text, 500), room), "\n") {
			qb.WriteString("\n> " + line)
		}
		if ql != "" {
			qb.WriteString("\n> " + ql)
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
		// Slack shows it in each reader's zone ("Today", "Yesterday", or
		// the date, with its year when not this year's); the fallback, in
		// the community's zone, always has the year.
		foot = append(foot, fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", it.Published.Unix(), it.Published.In(loc).Format("2 Jan 2006 15:04 MST")))
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
	text += slackapp.Escape(truncate(strings.Join(strings.Fields(summary), " "), 150))
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
		from = " from *" + escapeWithin(b.moreName, maxName) + "*"
	}
	text := fmt.Sprintf("➕ %s more new %s%s since the last check, not posted here to keep the channel readable.", n, noun, from)
	if l := link(b.moreLink, "See them all"); l != "" {
		text += " " + l
	}
	return slackapp.Message{Text: text, Blocks: []slack.Block{
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, text, false, true)),
	}}
}
