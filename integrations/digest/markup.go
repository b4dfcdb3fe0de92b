package digest

import (
	"strings"
	"unicode/utf8"

	"github.com/townhall/townhall/slackapp"
)

// maxLineRunes is how much of a thread's first line a digest quotes: about
// two lines on a phone.
const maxLineRunes = 120

// quoteLine returns the first line of a message's text, Slack mrkdwn as
// Slack sends it, as text fit to quote in a digest: Slack's markup for
// mentions, channels and links is read back into what a reader sees
// (<@U1|ana> is @ana, <https://x|the notes> is "the notes"), so that the
// digest pings nobody, links nowhere unexpected and is escaped for mrkdwn;
// it is truncated to maxLineRunes with an ellipsis. user names a user
// mentioned by ID alone; it may return "".
func quoteLine(text string, user func(id string) string) string {
	line := ""
	for l := range strings.Lines(text) {
		l = strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "`"))
		if l != "" {
			line = l
			break
		}
	}
	line = strings.Join(strings.Fields(plain(line, user)), " ")
	if utf8.RuneCountInString(line) > maxLineRunes {
		r := []rune(line)
		line = strings.TrimRight(string(r[:maxLineRunes-1]), " ") + "…"
	}
	return slackapp.Escape(line)
}

// plain reads Slack's <…> markup and &-escapes back into plain text
// (https://docs.slack.dev/messaging/formatting-message-text).
func plain(s string, user func(id string) string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '>')
		if end < 0 {
			break
		}
		b.WriteString(unescape(s[:open]))
		b.WriteString(token(s[open+1:open+end], user))
		s = s[open+end+1:]
	}
	b.WriteString(unescape(s))
	return b.String()
}

// token is what one <…> of Slack's markup reads as.
func token(t string, user func(id string) string) string {
	target, label, hasLabel := strings.Cut(t, "|")
	label = unescape(label)
	switch {
	case strings.HasPrefix(target, "@"):
		if hasLabel && label != "" {
			return "@" + strings.TrimPrefix(label, "@")
		}
		if user != nil {
			if name := user(target[1:]); name != "" {
				return "@" + name
			}
		}
		return "@someone"
	case strings.HasPrefix(target, "#"):
		if hasLabel && label != "" {
			return "#" + label
		}
		return "#channel"
	case strings.HasPrefix(target, "!"):
		if hasLabel && label != "" {
			return label
		}
		switch name, _, _ := strings.Cut(target[1:], "^"); name {
		case "here", "channel", "everyone":
			return "@" + name
		case "subteam":
			return "@group"
		}
		return ""
	case hasLabel && label != "":
		return label
	}
	return unescape(target)
}

// unescape undoes the three escapes Slack applies to message text.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
