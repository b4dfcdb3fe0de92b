package archive

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Slack's mrkdwn (https://api.slack.com/reference/surfaces/formatting) is
// turned into the Markdown Mattermost renders
// (https://docs.mattermost.com/collaborate/format-messages.html):
//
//	*bold*  _italic_  ~strike~      → **bold**  *italic*  ~~strike~~
//	`code`  ```pre```               → `code` and fenced code blocks
//	&gt; quote, &gt;&gt;&gt; quote  → > quote lines
//	<https://x|label>, <https://x>  → [label](https://x), <https://x>
//	<@U123>, <#C123|name>           → @username, ~channel-name
//	<!here> <!channel> <!everyone>  → `@here` `@channel` `@all`, as code: shown, never a mention
//
// Everything else is text and stays text: Markdown's own syntax in a
// Slack message ([x](y), # heading, 1. list, | table |, \) is escaped, a
// literal "@name" (which Slack never made a mention) gets an invisible word
// joiner after its "@", and < and > stay the entities Slack sent, so HTML
// shows as the characters it is made of. Only http(s), mailto and ftp links
// become links.

// mdConverter converts one export's texts; it is not safe for concurrent use.
type mdConverter struct {
	users    map[string]string // Slack user ID → Mattermost username
	channels map[string]string // Slack channel ID → Mattermost channel name
	byName   map[string]string // Slack channel name → Mattermost channel name

	b        strings.Builder
	quoteAll bool // inside a >>> quote: every line to the end is quoted
	quoted   bool // the last line written was a > quote line
}

// wordJoiner follows the "@" of a literal @word, so Mattermost sees no
// mention there and the reader sees no difference.
const wordJoiner = "\u2060"

// markdown converts Slack mrkdwn to Mattermost Markdown.
func (c *mdConverter) markdown(text string) string {
	c.b.Reset()
	c.b.Grow(len(text) + len(text)/8)
	c.quoteAll, c.quoted = false, false
	afterPre := false
	for text != "" {
		start := strings.Index(text, "```")
		end := -1
		if start >= 0 {
			if e := strings.Index(text[start+3:], "```"); e >= 0 {
				end = start + 3 + e
			}
		}
		if start < 0 || end < 0 { // no (closed) code block: the rest is text
			c.lines(text, afterPre)
			break
		}
		if start > 0 {
			c.lines(text[:start], afterPre)
		}
		c.pre(text[start+3 : end])
		afterPre = true
		text = text[end+3:]
	}
	return c.b.String()
}

// lines writes a run of text (no code block in it), line by line.
func (c *mdConverter) lines(s string, afterPre bool) {
	if afterPre {
		// What follows a code block starts on a line of its own.
		s = strings.TrimPrefix(s, "\n")
		c.b.WriteByte('\n')
	}
	for k := 0; ; k++ {
		line, rest, more := strings.Cut(s, "\n")
		if k > 0 {
			c.b.WriteByte('\n')
		}
		c.line(line)
		if !more {
			return
		}
		s = rest
	}
}

// line writes one line of text with its quote marker, if any.
func (c *mdConverter) line(s string) {
	if !c.quoteAll {
		if rest, ok := strings.CutPrefix(s, "&gt;&gt;&gt;"); ok {
			c.quoteAll = true
			s = strings.TrimPrefix(rest, " ")
		}
	}
	quoted := c.quoteAll
	if !quoted {
		if rest, ok := strings.CutPrefix(s, "&gt;"); ok {
			quoted = true
			s = strings.TrimPrefix(rest, " ")
		}
	}
	if !quoted && c.quoted && s != "" {
		// A line after a quote would continue it ("lazy continuation"):
		// a blank line ends the quote first.
		c.b.WriteByte('\n')
	}
	c.quoted = quoted && !c.quoteAll
	if quoted {
		if s == "" {
			c.b.WriteByte('>')
			return
		}
		c.b.WriteString("> ")
	}
	c.lineStart(s)
}

// lineStart writes a line's content, escaping what Markdown would read as
// the start of a block (heading, list, rule, setext underline, indented
// code, fence).
func (c *mdConverter) lineStart(s string) {
	n := 0
	for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		n++
	}
	for range n { // indentation kept, but never an indented code block
		c.b.WriteString("\u00a0")
	}
	s = s[n:]
	if s == "" {
		return
	}
	switch ch := s[0]; {
	case ch == '#' || ch == '-' || ch == '+' || ch == '=':
		c.b.WriteByte('\\')
		c.b.WriteByte(ch)
		s = s[1:]
	case ch == '~' && strings.HasPrefix(s, "~~~"):
		c.b.WriteString(`\~\~\~`)
		s = s[3:]
	case ch >= '0' && ch <= '9':
		d := 0
		for d < len(s) && s[d] >= '0' && s[d] <= '9' {
			d++
		}
		if d < len(s) && (s[d] == '.' || s[d] == ')') {
			c.b.WriteString(s[:d])
			c.b.WriteByte('\\')
			c.b.WriteByte(s[d])
			s = s[d+1:]
		}
	}
	c.codeSpans(s)
}

// codeSpans writes a line, its `code` spans as code.
func (c *mdConverter) codeSpans(s string) {
	for s != "" {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			c.inline(s, true)
			return
		}
		j := strings.IndexByte(s[i+1:], '`')
		if j <= 0 { // no closing backtick, or `` (empty): literal
			c.inline(s[:i], true)
			c.b.WriteString("\\`")
			s = s[i+1:]
			continue
		}
		c.inline(s[:i], true)
		c.b.WriteByte('`')
		c.b.WriteString(c.plain(s[i+1 : i+1+j]))
		c.b.WriteByte('`')
		s = s[i+1+j+1:]
	}
}

// pre writes a ``` code block as a fenced code block on lines of its own.
func (c *mdConverter) pre(s string) {
	s = strings.TrimPrefix(s, "\n")
	s = strings.TrimSuffix(s, "\n")
	if c.b.Len() > 0 && !strings.HasSuffix(c.b.String(), "\n") {
		c.b.WriteByte('\n')
	}
	prefix := ""
	if c.quoteAll {
		prefix = "> "
	}
	c.quoted = false
	c.b.WriteString(prefix + "```\n")
	body := c.plain(s)
	if prefix != "" {
		body = strings.ReplaceAll(body, "\n", "\n"+prefix)
	}
	c.b.WriteString(prefix + body + "\n" + prefix + "```")
}

// inline writes text with Slack's inline markup (formatting, links,
// mentions) converted and every other Markdown character escaped;
// format is false inside a link's label, which takes no formatting.
func (c *mdConverter) inline(s string, format bool) {
	for i := 0; i < len(s); {
		ch := s[i]
		switch ch {
		case '<':
			j := strings.IndexByte(s[i+1:], '>')
			if j < 0 {
				c.b.WriteString("&lt;")
				i++
				continue
			}
			c.token(s[i+1 : i+1+j])
			i += j + 2
		case '*', '_', '~':
			if format {
				if k := closing(s, i); k > 0 {
					md := "~~"
					switch ch {
					case '*':
						md = "**"
					case '_':
						md = "*"
					}
					c.b.WriteString(md)
					c.inline(s[i+1:k], true)
					c.b.WriteString(md)
					i = k + 1
					continue
				}
			}
			c.b.WriteByte('\\')
			c.b.WriteByte(ch)
			i++
		case '&':
			i += c.entity(s[i:])
		case '@':
			c.b.WriteByte('@')
			if i == 0 || !(isASCIIAlnum(s[i-1]) || s[i-1] == '_') { // where Mattermost's \B@ sees a mention
				c.b.WriteString(wordJoiner)
			}
			i++
		case '\\', '[', ']', '|', '`':
			c.b.WriteByte('\\')
			c.b.WriteByte(ch)
			i++
		default:
			c.b.WriteByte(ch)
			i++
		}
	}
}

// entity writes the & that starts s and returns how many bytes of s it
// took: Slack's &lt; and &gt; stay entities (so < and > show as
// themselves and are never read as HTML); &amp; becomes & unless what
// follows would then read as an entity ("&amp;copy;" must not show ©).
func (c *mdConverter) entity(s string) int {
	switch {
	case strings.HasPrefix(s, "&lt;"), strings.HasPrefix(s, "&gt;"):
		c.b.WriteString(s[:4])
		return 4
	case strings.HasPrefix(s, "&amp;"):
		if looksLikeEntity(s[5:]) {
			c.b.WriteString("&amp;")
		} else {
			c.b.WriteByte('&')
		}
		return 5
	case looksLikeEntity(s[1:]):
		c.b.WriteString("&amp;")
		return 1
	default:
		c.b.WriteByte('&')
		return 1
	}
}

// looksLikeEntity reports whether s starts like the rest of an HTML entity
// ("copy;", "#169;", "#x00A9;").
func looksLikeEntity(s string) bool {
	n := 0
	for n < len(s) && n < 32 && (isASCIIAlnum(s[n]) || (n == 0 && s[n] == '#')) {
		n++
	}
	return n > 0 && n < len(s) && s[n] == ';'
}

func isASCIIAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// closing finds the delimiter closing the one at s[i] (*, _ or ~), as
// Slack reads them: the opening one follows the start, a space or
// punctuation and is followed by a non-space; the closing one follows a
// non-space and is followed by the end, a space or punctuation. Links and
// mentions (<…>) are skipped whole. It returns -1 when there is none.
func closing(s string, i int) int {
	d := s[i]
	if !wordStart(s, i) || i+1 >= len(s) || s[i+1] == ' ' || s[i+1] == d {
		return -1
	}
	for k := i + 1; k < len(s); k++ {
		switch s[k] {
		case '<':
			j := strings.IndexByte(s[k:], '>')
			if j < 0 {
				return -1
			}
			k += j
		case d:
			if k > i+1 && s[k-1] != ' ' && wordEnd(s, k) {
				return k
			}
		}
	}
	return -1
}

// wordStart reports whether s[i] starts a word: it is first, or follows a
// space or punctuation.
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(r) && r != '.' && r != '-'
}

// wordEnd reports whether s[k] ends a word: it is last, or a space or
// punctuation follows.
func wordEnd(s string, k int) bool {
	if k+1 >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[k+1:])
	return !isWordRune(r)
}

// token converts what was between < and >: a mention, a channel, a
// special mention or a link.
func (c *mdConverter) token(t string) {
	body, label, _ := strings.Cut(t, "|")
	switch {
	case strings.HasPrefix(body, "@"):
		id := body[1:]
		if special(id) != "" {
			c.b.WriteString("`" + special(id) + "`")
			return
		}
		if name, ok := c.users[id]; ok {
			c.b.WriteString("@" + name)
			return
		}
		c.b.WriteString("@" + wordJoiner)
		c.inline(firstOf(label, id), false)
	case strings.HasPrefix(body, "#"):
		id := body[1:]
		if name, ok := c.channels[id]; ok {
			c.b.WriteString("~" + name)
			return
		}
		if name, ok := c.byName[label]; ok && label != "" {
			c.b.WriteString("~" + name)
			return
		}
		c.b.WriteByte('#')
		c.inline(firstOf(label, id), false)
	case strings.HasPrefix(body, "!"):
		name, _, _ := strings.Cut(body[1:], "^")
		if s := special(name); s != "" {
			c.b.WriteString("`" + s + "`")
			return
		}
		// <!subteam^S123|@team>, <!date^…|fallback> and the like: the
		// label Slack shows, as text.
		label = strings.TrimPrefix(label, "@")
		if name == "subteam" || strings.HasPrefix(body, "!subteam") {
			c.b.WriteString("@" + wordJoiner)
		}
		c.inline(firstOf(label, name), false)
	default:
		c.link(body, label)
	}
}

// special is the Mattermost form of a Slack special mention, or "".
func special(name string) string {
	switch name {
	case "here":
		return "@here"
	case "channel":
		return "@channel"
	case "everyone":
		return "@all"
	}
	return ""
}

// link writes <url|label> as a Markdown link, or as text when its scheme
// is not one a link may have.
func (c *mdConverter) link(url, label string) {
	url = strings.ReplaceAll(url, "&amp;", "&")
	scheme, _, ok := strings.Cut(url, ":")
	switch strings.ToLower(scheme) {
	case "http", "https", "ftp", "mailto":
	default:
		ok = false
	}
	if !ok || strings.ContainsAny(url, " \t\n") {
		c.inline(firstOf(label, url), false)
		return
	}
	if label == "" || label == url || "mailto:"+label == url {
		label = strings.TrimPrefix(url, "mailto:")
	}
	c.b.WriteByte('[')
	c.inline(label, false)
	c.b.WriteString("](")
	c.b.WriteString(escapeURL(url))
	c.b.WriteByte(')')
}

// escapeURL makes url safe inside a Markdown link's parentheses.
func escapeURL(url string) string {
	if !strings.ContainsAny(url, "()<>\\`") {
		return url
	}
	return strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", `\`, "%5C", "`", "%60").Replace(url)
}

// plain is text as code shows it: tokens as what Slack displays for
// them, entities decoded, nothing escaped.
func (c *mdConverter) plain(s string) string {
	if strings.IndexByte(s, '<') < 0 && strings.IndexByte(s, '&') < 0 {
		return s
	}
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '<')
		j := -1
		if i >= 0 {
			j = strings.IndexByte(s[i:], '>')
		}
		if i < 0 || j < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		body, label, _ := strings.Cut(s[i+1:i+j], "|")
		switch {
		case strings.HasPrefix(body, "@"):
			if name, ok := c.users[body[1:]]; ok {
				b.WriteString("@" + name)
			} else if sp := special(body[1:]); sp != "" {
				b.WriteString(sp)
			} else {
				b.WriteString("@" + firstOf(label, body[1:]))
			}
		case strings.HasPrefix(body, "#"):
			b.WriteString("#" + firstOf(label, body[1:]))
		case strings.HasPrefix(body, "!"):
			name, _, _ := strings.Cut(body[1:], "^")
			b.WriteString(firstOf(special(name), label, name))
		default:
			b.WriteString(firstOf(label, body))
		}
		s = s[i+j+1:]
	}
	return htmlUnescaper.Replace(b.String())
}

var htmlUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// text is plain text (a name, a title) for a Markdown message: escaped,
// nothing converted.
func (c *mdConverter) text(s string) string {
	c.b.Reset()
	c.inline(s, false)
	return c.b.String()
}

// emojiName is a reaction's name as Mattermost takes it: without Slack's
// skin tone ("+1::skin-tone-2" → "+1"), only [a-zA-Z0-9_+-], at most 64
// characters; "" when nothing is left.
func emojiName(name string) string {
	name, _, _ = strings.Cut(name, "::")
	name = strings.Trim(name, ":")
	var b strings.Builder
	for _, r := range name {
		if r < unicode.MaxASCII && (isASCIIAlnum(byte(r)) || r == '_' || r == '+' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	if strings.Trim(out, "_") == "" {
		return ""
	}
	return out
}
