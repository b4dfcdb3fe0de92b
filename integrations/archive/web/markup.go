package web

import (
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Markup renders Slack's mrkdwn (https://api.slack.com/reference/surfaces/formatting)
// as people see it in Slack: mentions as names, channel links, links,
// *bold*, _italic_, ~strike~, `code`, ```code blocks```, > quotes, :emoji:
// and <!date…> tokens. Every piece of the text is escaped; the only markup
// in the output is the renderer's own. Mentions and channel names are
// isolated (<bdi>, dir="auto"), so an English name in Arabic text still
// reads "@admin", and an Arabic one does not reorder the words around it.
type Markup struct {
	// UserName returns a user's display name ("" if unknown).
	UserName func(id string) string
	// ChannelHref returns a channel's name and its page's path ("" when
	// it is not published).
	Channel func(id string) (name, href string)
	// Location is the time zone <!date> tokens are shown in.
	Location *time.Location
}

// HTML renders text (as Slack sends it: & < > escaped) as HTML.
func (r Markup) HTML(text string) template.HTML {
	var b strings.Builder
	parts := strings.Split(text, "```")
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 { // inside a code block
			b.WriteString("<pre><code>")
			b.WriteString(html.EscapeString(unescape(strings.Trim(p, "\n"))))
			b.WriteString("</code></pre>")
			continue
		}
		if i%2 == 1 { // an unclosed fence: literal
			b.WriteString("```")
		}
		r.blocks(&b, p)
	}
	return template.HTML(b.String())
}

// blocks renders lines, grouping quoted ones ("&gt; …") in a blockquote.
func (r Markup) blocks(b *strings.Builder, text string) {
	lines := strings.Split(text, "\n")
	inQuote := false
	for i, line := range lines {
		quoted := strings.HasPrefix(line, "&gt;")
		if quoted {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "&gt;"), " ")
		}
		switch {
		case quoted && !inQuote:
			b.WriteString("<blockquote>")
		case !quoted && inQuote:
			b.WriteString("</blockquote>")
		case i > 0:
			b.WriteString("<br>")
		}
		inQuote = quoted
		r.inline(b, line)
	}
	if inQuote {
		b.WriteString("</blockquote>")
	}
}

// inline renders one line: `code` spans, then <tokens> and formatting.
func (r Markup) inline(b *strings.Builder, line string) {
	parts := strings.Split(line, "`")
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 && p != "" {
			b.WriteString("<code>")
			b.WriteString(html.EscapeString(unescape(p)))
			b.WriteString("</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`")
			if p == "" && i < len(parts)-1 {
				b.WriteString("`")
				continue
			}
		}
		r.tokens(b, p)
	}
}

// tokens renders <…> references and the plain text between them.
func (r Markup) tokens(b *strings.Builder, s string) {
	for s != "" {
		open := strings.IndexByte(s, '<')
		if open < 0 {
			b.WriteString(format(s))
			return
		}
		end := strings.IndexByte(s[open:], '>')
		if end < 0 {
			b.WriteString(format(s))
			return
		}
		b.WriteString(format(s[:open]))
		b.WriteString(r.token(s[open+1 : open+end]))
		s = s[open+end+1:]
	}
}

// token renders the inside of one <…> reference.
func (r Markup) token(t string) string {
	target, label, _ := strings.Cut(t, "|")
	switch {
	case strings.HasPrefix(target, "@"):
		id := target[1:]
		name := ""
		if r.UserName != nil {
			name = r.UserName(id)
		}
		if name == "" {
			name = firstNonEmpty(label, id)
		}
		return `<bdi class="mention">@` + html.EscapeString(unescape(name)) + `</bdi>`
	case strings.HasPrefix(target, "#"):
		name, href := "", ""
		if r.Channel != nil {
			name, href = r.Channel(target[1:])
		}
		name = "#" + firstNonEmpty(name, label, target[1:])
		if href == "" {
			return `<bdi class="channel">` + html.EscapeString(unescape(name)) + `</bdi>`
		}
		return `<a class="channel" dir="auto" href="` + html.EscapeString(href) + `">` + html.EscapeString(unescape(name)) + `</a>`
	case strings.HasPrefix(target, "!date^"):
		return r.date(target, label)
	case strings.HasPrefix(target, "!subteam^"):
		return `<bdi class="mention">` + html.EscapeString(unescape(firstNonEmpty(label, "@group"))) + `</bdi>`
	case strings.HasPrefix(target, "!"):
		name := strings.TrimPrefix(target, "!")
		return `<bdi class="mention">@` + html.EscapeString(unescape(firstNonEmpty(label, name))) + `</bdi>`
	}
	u, err := url.Parse(unescape(target))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto") {
		return html.EscapeString(unescape("<" + t + ">"))
	}
	text := firstNonEmpty(label, strings.TrimPrefix(target, "mailto:"))
	return `<a href="` + html.EscapeString(u.String()) + `" rel="nofollow ugc noopener">` + html.EscapeString(unescape(text)) + `</a>`
}

// date renders <!date^unix^format^link|fallback>
// (https://api.slack.com/reference/surfaces/formatting#date-formatting).
func (r Markup) date(target, fallback string) string {
	f := strings.SplitN(target, "^", 4)
	if len(f) < 3 {
		return html.EscapeString(unescape(fallback))
	}
	sec, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return html.EscapeString(unescape(fallback))
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	t := time.Unix(sec, 0).In(loc)
	text := dateTokens.ReplaceAllStringFunc(f[2], func(tok string) string {
		switch tok {
		case "{date_num}":
			return t.Format("2006-01-02")
		case "{date}", "{date_pretty}":
			return t.Format("January 2, 2006")
		case "{date_short}", "{date_short_pretty}":
			return t.Format("Jan 2, 2006")
		case "{date_long}", "{date_long_pretty}":
			return t.Format("Monday, January 2, 2006")
		case "{time}":
			return t.Format("15:04")
		case "{time_secs}":
			return t.Format("15:04:05")
		case "{ago}":
			return t.Format("Jan 2, 2006 15:04")
		}
		return tok
	})
	return `<time datetime="` + t.Format(time.RFC3339) + `">` + html.EscapeString(unescape(text)) + `</time>`
}

var dateTokens = regexp.MustCompile(`\{[a-z_]+\}`)

// The formatting marks: a mark opens after a start, space or punctuation
// and closes before an end, space or punctuation, as in Slack.
var (
	boldRE   = regexp.MustCompile(`(^|[\s(\[{"'.,;:!?])\*([^*\s](?:[^*]*[^*\s])?)\*($|[\s)\]}"'.,;:!?])`)
	italicRE = regexp.MustCompile(`(^|[\s(\[{"'.,;:!?])_([^_\s](?:[^_]*[^_\s])?)_($|[\s)\]}"'.,;:!?])`)
	strikeRE = regexp.MustCompile(`(^|[\s(\[{"'.,;:!?])~([^~\s](?:[^~]*[^~\s])?)~($|[\s)\]}"'.,;:!?])`)
	emojiRE  = regexp.MustCompile(`:([a-z0-9_+\-']+):(?::(skin-tone-[2-6]):)?`)
)

// format escapes plain text and renders its formatting marks and emoji.
func format(s string) string {
	if s == "" {
		return ""
	}
	e := html.EscapeString(unescape(s))
	e = emojiRE.ReplaceAllStringFunc(e, func(m string) string {
		code := strings.Trim(m, ":") // "wave" or "wave::skin-tone-3"
		if em, ok := emojiFor(code); ok {
			return `<span class="emoji" role="img" aria-label="` + html.EscapeString(code) + `">` + em + `</span>`
		}
		return m
	})
	for _, f := range []struct {
		re  *regexp.Regexp
		tag string
	}{{boldRE, "strong"}, {italicRE, "em"}, {strikeRE, "del"}} {
		for range 2 { // adjacent marks share a separator: a second pass finds them
			e = f.re.ReplaceAllString(e, "${1}<"+f.tag+">${2}</"+f.tag+">${3}")
		}
	}
	return e
}

// Plain renders text as plain text, references replaced by names, for
// search snippets.
func (r Markup) Plain(text string) string {
	var b strings.Builder
	s := text
	for s != "" {
		open := strings.IndexByte(s, '<')
		end := -1
		if open >= 0 {
			end = strings.IndexByte(s[open:], '>')
		}
		if open < 0 || end < 0 {
			b.WriteString(unescape(s))
			break
		}
		b.WriteString(unescape(s[:open]))
		t := s[open+1 : open+end]
		target, label, _ := strings.Cut(t, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			name := ""
			if r.UserName != nil {
				name = r.UserName(target[1:])
			}
			b.WriteString("@" + unescape(firstNonEmpty(name, label, target[1:])))
		case strings.HasPrefix(target, "#"):
			name := ""
			if r.Channel != nil {
				name, _ = r.Channel(target[1:])
			}
			b.WriteString("#" + unescape(firstNonEmpty(name, label, target[1:])))
		case strings.HasPrefix(target, "!"):
			b.WriteString(unescape(firstNonEmpty(label, "@"+strings.TrimPrefix(target, "!"))))
		default:
			b.WriteString(unescape(firstNonEmpty(label, target)))
		}
		s = s[open+end+1:]
	}
	return b.String()
}

var slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

func unescape(s string) string { return slackEntities.Replace(s) }

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
