package web

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxSlug bounds a thread's slug, in bytes of UTF-8 (so about 60 Latin
// letters, 30 Arabic or Cyrillic ones, 20 Chinese characters): the words
// after the first that would pass it are left out.
const maxSlug = 60

// maxTitle bounds a thread's title, in runes (Google shows about 60
// characters of a title; schema.org's headline is best under 110).
const maxTitle = 100

// asciiFolds are Latin letters that Unicode decomposition leaves whole.
var asciiFolds = map[rune]string{
	'ß': "ss", 'ø': "o", 'æ': "ae", 'œ': "oe", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t",
}

// slugOf returns the slug of a thread's title: its words, lower case,
// joined by hyphens, at most maxSlug bytes. Latin letters are folded to
// ASCII where they can be ("Réunion" → "reunion", "Straße" → "strasse");
// other scripts are kept as they are written (Arabic without its optional
// vowel marks), so an Arabic, Russian or Chinese title gives a slug in its
// own script, percent-encoded UTF-8 in links. A title of no letters or
// digits (only emoji, say) gives "": the thread's path is then its ts alone.
func slugOf(title string) string {
	var words []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			words = append(words, w.String())
			w.Reset()
		}
	}
	for _, r := range norm.NFC.String(title) {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
				w.WriteRune(unicode.ToLower(r))
			} else if r != '\'' && r != '’' { // "don't" is one word
				flush()
			}
		case r == '’':
		case r < 0x250 || 0x1E00 <= r && r <= 0x1EFF: // Latin: fold to ASCII
			l := unicode.ToLower(r)
			if s, ok := asciiFolds[l]; ok {
				w.WriteString(s)
				continue
			}
			folded := false
			for _, c := range norm.NFKD.String(string(l)) {
				if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
					w.WriteRune(c)
					folded = true
				}
			}
			if !folded && unicode.IsLetter(l) {
				w.WriteRune(l)
			} else if !folded {
				flush()
			}
		case 0x064B <= r && r <= 0x065F || r == 0x0670 || r == 0x0640: // Arabic harakat and tatweel
		case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r):
			w.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	var b strings.Builder
	for _, word := range words {
		sep := 0
		if b.Len() > 0 {
			sep = 1
		}
		if b.Len()+sep+len(word) > maxSlug {
			if b.Len() == 0 { // one long word (a Chinese sentence): cut it at a character
				cut := maxSlug
				for cut > 0 && !utf8.RuneStart(word[cut]) {
					cut--
				}
				b.WriteString(word[:cut])
			}
			break
		}
		if sep == 1 {
			b.WriteByte('-')
		}
		b.WriteString(word)
	}
	return b.String()
}

// titleOf returns a thread's title from the plain text of its first
// message: its first line that says something, without Slack's formatting
// marks and with emoji codes drawn, cut to maxTitle runes.
func titleOf(plain string) string {
	for line := range strings.SplitSeq(cleanText(plain), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) > maxTitle {
			line = cutRunes(line, maxTitle)
		}
		return line
	}
	return ""
}

// cleanText is the plain text of a message (Markup.Plain) as a search
// engine or a link preview should read it: without Slack's formatting
// marks (*bold*, _italic_, ~strike~, `code`, "> " quotes) and with emoji
// codes drawn as emoji.
func cleanText(plain string) string {
	lines := strings.Split(plain, "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, ">"); ok {
			line = strings.TrimSpace(rest)
		}
		line = strings.ReplaceAll(line, "```", "")
		for _, f := range []struct {
			mark byte
			re   *regexp.Regexp
		}{{'*', boldRE}, {'_', italicRE}, {'~', strikeRE}, {'`', codeRE}} {
			for range 2 { // adjacent marks share a separator: a second pass finds them
				if strings.IndexByte(line, f.mark) >= 0 {
					line = f.re.ReplaceAllString(line, "${1}${2}${3}")
				}
			}
		}
		if strings.IndexByte(line, ':') < 0 {
			lines[i] = line
			continue
		}
		lines[i] = emojiRE.ReplaceAllStringFunc(line, func(m string) string {
			if e, ok := emojiFor(strings.Trim(m, ":")); ok {
				return e
			}
			return m
		})
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// codeRE finds `code` spans, for cleanText.
var codeRE = regexp.MustCompile("(^|[^`])`([^`]+)`($|[^`])")
