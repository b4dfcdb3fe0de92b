package translate

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"

	"github.com/townhall/townhall/slackapp"
)

// Slack markup protection.
//
// A message is sent to a provider as HTML in which everything that must
// come back unchanged is out of the provider's reach: mentions, channel
// links, special mentions (@here), emoji codes, inline code, code blocks,
// quote markers and bare URLs become <span translate="no" id="N">, whose
// contents the provider leaves alone (all three honour translate="no"),
// and which we replace on the way back by the original markup, by id,
// whatever the provider did to the contents. A labelled link becomes
// <a id="N">label</a>: the label is translated, and the URL never leaves
// the process. Line breaks become <br>, since HTML mode folds newlines.
// Text from the provider is escaped for mrkdwn on the way back, so no
// translation can mention, broadcast or forge a link.

// protected is markup kept out of translation.
type protected struct {
	markup string // the original mrkdwn: "<@U123>", ":tada:", "```code```", or a link's URL
	link   bool   // a labelled link: markup is the target, the label is translated
}

// fragment is a piece of the HTML sent to a provider that is never split,
// with how good a place its end is to split a long message.
type fragment struct {
	html string
	cut  cutQuality
}

type cutQuality int

const (
	cutNever    cutQuality = iota // inside a word
	cutSpace                      // after whitespace
	cutSentence                   // after the end of a sentence
	cutLine                       // after a line break
)

// prepared is a message ready for a provider.
type prepared struct {
	frags []fragment
	items []protected
	text  int // runes of translatable text (0: nothing to translate)
}

var (
	emojiCode = regexp.MustCompile(`^:[a-z0-9_+'\-]+:`)
	bareURL   = regexp.MustCompile(`^(?:https?|mailto|ftp)://[^\s<>]+`)
	// word is a run of text up to and including the whitespace after it,
	// or up to and including sentence-ending punctuation of scripts that
	// do not put spaces between words.
	word = regexp.MustCompile(`[^\s。！？؟]*[。！？؟]+\s*|[^\s。！？؟]+\s*|\s+`)
)

// slackUnescaper undoes mrkdwn's escaping of &, < and >.
var slackUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// htmlEscaper escapes text for HTML element content: only what HTML needs,
// so no character is billed twice.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// prepare turns mrkdwn into fragments of HTML.
func prepare(text string) prepared {
	var p prepared
	var plain strings.Builder // text not yet emitted
	lineStart := true

	flush := func() {
		if plain.Len() == 0 {
			return
		}
		s := slackUnescaper.Replace(plain.String())
		plain.Reset()
		for _, w := range word.FindAllString(s, -1) {
			trimmed := strings.TrimRight(w, " \t\u00a0\u3000")
			q := cutNever
			switch {
			case strings.TrimSpace(w) == "":
				q = cutSpace
			case strings.ContainsAny(lastRune(trimmed), ".!?。！？؟…"):
				q = cutSentence
			case len(trimmed) < len(w):
				q = cutSpace
			}
			if hasLetterOrDigit(w) {
				p.text += utf8.RuneCountInString(w)
			}
			p.frags = append(p.frags, fragment{html: htmlEscaper.Replace(w), cut: q})
		}
	}
	keep := func(markup, shown string) {
		flush()
		id := len(p.items)
		p.items = append(p.items, protected{markup: markup})
		p.frags = append(p.frags, fragment{html: `<span translate="no" id="` + strconv.Itoa(id) + `">` + htmlEscaper.Replace(shown) + `</span>`})
	}

	for i := 0; i < len(text); {
		rest := text[i:]
		switch {
		case rest[0] == '\n':
			flush()
			p.frags = append(p.frags, fragment{html: "<br>", cut: cutLine})
			i++
			lineStart = true
			continue
		case lineStart && strings.HasPrefix(rest, "&gt;"):
			n := 0
			for strings.HasPrefix(rest[n:], "&gt;") {
				n += len("&gt;")
			}
			if n < len(rest) && rest[n] == ' ' {
				n++
			}
			keep(rest[:n], ">")
			i += n
		case strings.HasPrefix(rest, "```"):
			end := strings.Index(rest[3:], "```")
			if end < 0 {
				plain.WriteString(rest[:3])
				i += 3
				break
			}
			n := 3 + end + 3
			keep(rest[:n], "code")
			i += n
		case rest[0] == '`':
			end := strings.IndexAny(rest[1:], "`\n")
			if end <= 0 || rest[1+end] != '`' {
				plain.WriteByte('`')
				i++
				break
			}
			n := 1 + end + 1
			keep(rest[:n], shorten(slackUnescaper.Replace(rest[1:n-1])))
			i += n
		case rest[0] == '<':
			end := strings.IndexAny(rest[1:], "<>\n")
			if end < 0 || rest[1+end] != '>' {
				plain.WriteByte('<') // cannot happen in Slack's own text, which escapes <
				i++
				break
			}
			inner := rest[1 : 1+end]
			n := 1 + end + 1
			target, label, labelled := strings.Cut(inner, "|")
			switch {
			case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"), strings.HasPrefix(target, "!"):
				keep(rest[:n], shownMention(target, label, labelled))
			case labelled && strings.TrimSpace(label) != "":
				flush()
				id := len(p.items)
				p.items = append(p.items, protected{markup: target, link: true})
				lbl := slackUnescaper.Replace(label)
				p.text += utf8.RuneCountInString(lbl)
				p.frags = append(p.frags, fragment{html: `<a id="` + strconv.Itoa(id) + `">` + htmlEscaper.Replace(lbl) + `</a>`})
			default:
				keep(rest[:n], shorten(slackUnescaper.Replace(target)))
			}
			i += n
		case rest[0] == ':' && emojiCode.MatchString(rest):
			m := emojiCode.FindString(rest)
			keep(m, m)
			i += len(m)
		case (rest[0] == 'h' || rest[0] == 'm' || rest[0] == 'f') && atWordStart(text, i) && bareURL.MatchString(rest):
			m := bareURL.FindString(rest)
			keep(m, shorten(m))
			i += len(m)
		default:
			_, size := utf8.DecodeRuneInString(rest)
			plain.WriteString(rest[:size])
			i += size
		}
		lineStart = false
	}
	flush()
	return p
}

func lastRune(s string) string {
	r, size := utf8.DecodeLastRuneInString(s)
	if size == 0 {
		return ""
	}
	return string(r)
}

func atWordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r == ' ' || r == '\t' || r == '(' || r == '\n'
}

func hasLetterOrDigit(s string) bool {
	for _, r := range s {
		if r > ' ' && !strings.ContainsRune(".,;:!?-–—()[]{}'\"…。！？؟،", r) {
			return true
		}
	}
	return false
}

// shorten keeps what a span shows the provider short: it is context for
// the sentence around it, billed, and replaced on the way back anyway.
func shorten(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}

// shownMention is what the provider sees of a mention: "@name", "#general".
func shownMention(target, label string, labelled bool) string {
	switch {
	case strings.HasPrefix(target, "!"):
		if labelled {
			return slackUnescaper.Replace(label)
		}
		name, _, _ := strings.Cut(target[1:], "^")
		return "@" + name
	case labelled:
		return target[:1] + strings.TrimPrefix(slackUnescaper.Replace(label), target[:1])
	}
	return target
}

// html returns the whole prepared message as HTML.
func (p prepared) html() string {
	var b strings.Builder
	for _, f := range p.frags {
		b.WriteString(f.html)
	}
	return b.String()
}

// chunks splits the fragments into pieces whose cost is at most max,
// cutting each at the best place in its latter half: a line break, else a
// sentence end, else a space. A text fragment over max (a word longer than
// the limit) is first cut between runes; a protected fragment over max is
// sent whole, and the provider may refuse it.
func chunks(frags []fragment, cost func(string) int, max int) [][]fragment {
	var fs []fragment
	for _, f := range frags {
		for !strings.HasPrefix(f.html, "<") && cost(f.html) > max {
			head, tail := cutText(f.html, cost, max)
			if head == "" {
				break
			}
			fs = append(fs, fragment{html: head})
			f.html = tail
		}
		fs = append(fs, f)
	}
	var out [][]fragment
	for start := 0; start < len(fs); {
		end, total := start, 0
		for end < len(fs) && (end == start || total+cost(fs[end].html) <= max) {
			total += cost(fs[end].html)
			end++
		}
		if end < len(fs) {
			best, bestQ, acc := end, cutQuality(-1), 0
			for i := start; i < end; i++ {
				acc += cost(fs[i].html)
				if acc*2 >= total && fs[i].cut >= bestQ {
					best, bestQ = i+1, fs[i].cut
				}
			}
			end = best
		}
		out = append(out, fs[start:end])
		start = end
	}
	return out
}

// cutText cuts escaped text so the head costs at most max, between runes
// and never inside an entity.
func cutText(s string, cost func(string) int, max int) (head, tail string) {
	end := 0
	for i, r := range s {
		next := i + utf8.RuneLen(r)
		if r == '&' {
			if semi := strings.IndexByte(s[i:], ';'); semi > 0 {
				next = i + semi + 1
			}
		}
		if i < end {
			continue
		}
		if cost(s[:next]) > max {
			break
		}
		end = next
	}
	return s[:end], s[end:]
}

// restore turns a provider's HTML back into mrkdwn: protected spans and
// links become their original markup, <br> a newline, and text is escaped
// for mrkdwn with broadcasts defused. Markup the provider lost is appended,
// so no mention, link or code is ever dropped.
func restore(doc string, items []protected) string {
	var out strings.Builder
	used := make([]bool, len(items))
	z := nethtml.NewTokenizer(strings.NewReader(doc))
	skip := 0  // depth inside a protected span
	link := -1 // the link whose label is being written
	lineStart := true
	lastText := false // the last thing written was text (so trailing spaces may go)
	trimTrailing := func() {
		if !lastText {
			return
		}
		s := out.String()
		t := strings.TrimRight(s, " \t\u00a0")
		if len(t) != len(s) {
			out.Reset()
			out.WriteString(t)
		}
	}
	itemOf := func(tok nethtml.Token) (int, bool) {
		for _, a := range tok.Attr {
			if a.Key == "id" {
				n, err := strconv.Atoi(a.Val)
				if err == nil && n >= 0 && n < len(items) {
					return n, true
				}
			}
		}
		return 0, false
	}
	for {
		tt := z.Next()
		if tt == nethtml.ErrorToken {
			break
		}
		tok := z.Token()
		if skip > 0 {
			switch {
			case tt == nethtml.StartTagToken && !voidElement(tok.Data):
				skip++
			case tt == nethtml.EndTagToken:
				skip--
			}
			continue
		}
		switch tt {
		case nethtml.TextToken:
			s := tok.Data // unescaped
			if lineStart {
				s = strings.TrimLeft(s, " \t\u00a0")
			}
			if link >= 0 {
				s = strings.ReplaceAll(s, "\n", " ")
			}
			if s == "" {
				continue
			}
			out.WriteString(mrkdwnText(s))
			lineStart, lastText = false, true
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			switch tok.Data {
			case "br":
				if link >= 0 {
					out.WriteString(" ")
					continue
				}
				trimTrailing()
				out.WriteString("\n")
				lineStart, lastText = true, false
			case "span":
				if n, ok := itemOf(tok); ok && !items[n].link {
					out.WriteString(items[n].markup)
					used[n] = true
					lineStart, lastText = false, false
					if tt == nethtml.StartTagToken {
						skip = 1
					}
				}
			case "a":
				if n, ok := itemOf(tok); ok && items[n].link && link < 0 {
					out.WriteString("<" + items[n].markup + "|")
					used[n] = true
					link = n
					lineStart, lastText = false, false
					if tt == nethtml.SelfClosingTagToken {
						out.WriteString(">")
						link = -1
					}
				}
			}
		case nethtml.EndTagToken:
			if tok.Data == "a" && link >= 0 {
				s := out.String()
				if strings.HasSuffix(s, "|") { // the label vanished: keep the bare link
					out.Reset()
					out.WriteString(strings.TrimSuffix(s, "|"))
				}
				out.WriteString(">")
				link = -1
				lastText = false
			}
		}
	}
	if link >= 0 {
		out.WriteString(">")
	}
	var lost []string
	for i, ok := range used {
		if !ok {
			m := items[i].markup
			if items[i].link {
				m = "<" + m + ">"
			}
			lost = append(lost, m)
		}
	}
	res := strings.TrimRight(out.String(), " \t\u00a0\n")
	if len(lost) > 0 {
		res += " " + strings.Join(lost, " ")
	}
	return strings.TrimLeft(res, " \t\u00a0")
}

func voidElement(tag string) bool {
	switch tag {
	case "br", "hr", "img", "wbr", "input", "meta", "link":
		return true
	}
	return false
}

// broadcast matches words that some Slack surfaces turn into notifications
// even when they are plain text.
var broadcast = regexp.MustCompile(`@(channel|here|everyone)\b`)

// mrkdwnText makes translated text safe for mrkdwn: &, < and > escaped (no
// mention or link can be formed), and a word joiner after the "@" of
// @channel, @here and @everyone.
func mrkdwnText(s string) string {
	s = strings.ReplaceAll(s, "\u2060", "")
	return broadcast.ReplaceAllString(slackapp.Escape(s), "@\u2060$1")
}
