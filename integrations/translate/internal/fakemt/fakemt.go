// Package fakemt is the "machine translation" behind the provider fakes
// (googletest, libretest, deepltest): deterministic, instant, and honest
// about HTML the way the real services are. Text inside an element with
// translate="no" or class="notranslate", or inside <code>, is left alone;
// every other run of text is replaced by a phrase-book translation when it
// has one, or marked "[fr] text" when not, so a test can see exactly what
// was translated and what was protected.
//
// It is for tests only and imports nothing from townhall.
package fakemt

import (
	"html"
	"io"
	"slices"
	"strings"
	"unicode"

	nethtml "golang.org/x/net/html"
)

// phrases is the phrase book: English → language → translation, and the
// reverse for the non-English entries.
var phrases = map[string]map[string]string{
	"hello everyone": {
		"fr": "Bonjour à tous", "es": "Hola a todos", "ar": "مرحبا بالجميع",
		"zh": "大家好", "ru": "Всем привет", "de": "Hallo zusammen",
	},
	"thank you": {
		"fr": "Merci", "es": "Gracias", "ar": "شكرا لك", "zh": "谢谢", "ru": "Спасибо",
	},
	"see you tomorrow": {
		"fr": "À demain", "es": "Hasta mañana", "ar": "أراك غدا", "zh": "明天见", "ru": "До завтра",
	},
}

// Phrase returns the phrase book's translation of s into target.
func Phrase(s, target string) (string, bool) {
	key := strings.ToLower(strings.TrimSpace(s))
	if tr, ok := phrases[key]; ok {
		out, ok := tr[base(target)]
		return out, ok
	}
	if base(target) == "en" {
		for en, tr := range phrases {
			for _, v := range tr {
				if strings.EqualFold(v, strings.TrimSpace(s)) {
					return strings.ToUpper(en[:1]) + en[1:], true
				}
			}
		}
	}
	return "", false
}

func base(lang string) string {
	b, _, _ := strings.Cut(strings.ToLower(lang), "-")
	return b
}

// Text translates a run of plain text, keeping its surrounding space.
func Text(s, target string) string {
	core := strings.TrimSpace(s)
	if core == "" || !hasLetter(core) {
		return s
	}
	lead := s[:strings.Index(s, core)]
	trail := s[len(lead)+len(core):]
	if p, ok := Phrase(core, target); ok {
		return lead + p + trail
	}
	return lead + "[" + strings.ToLower(target) + "] " + core + trail
}

func hasLetter(s string) bool {
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

// HTML translates an HTML fragment into target, leaving alone the text of
// elements with translate="no" or class="notranslate", of <code>, and of
// any element named in ignoreTags (DeepL's ignore_tags).
func HTML(doc, target string, ignoreTags []string) string {
	z := nethtml.NewTokenizer(strings.NewReader(doc))
	var out strings.Builder
	var stack []bool // per open element: whether it stops translation
	frozen := func() bool { return slices.Contains(stack, true) }
	for {
		tt := z.Next()
		switch tt {
		case nethtml.ErrorToken:
			if z.Err() == io.EOF {
				return out.String()
			}
			return out.String() // malformed input: what was read so far
		case nethtml.TextToken:
			text := string(z.Text()) // unescaped
			if !frozen() {
				text = Text(text, target)
			}
			out.WriteString(html.EscapeString(text))
		case nethtml.StartTagToken:
			tok := z.Token()
			out.WriteString(tok.String())
			if !isVoid(tok.Data) {
				stack = append(stack, stops(tok, ignoreTags))
			}
		case nethtml.EndTagToken:
			tok := z.Token()
			out.WriteString(tok.String())
			if len(stack) > 0 && !isVoid(tok.Data) {
				stack = stack[:len(stack)-1]
			}
		default:
			out.WriteString(z.Token().String())
		}
	}
}

func isVoid(tag string) bool { return tag == "br" || tag == "img" || tag == "hr" || tag == "wbr" }

func stops(tok nethtml.Token, ignoreTags []string) bool {
	if tok.Data == "code" || tok.Data == "pre" || slices.Contains(ignoreTags, tok.Data) {
		return true
	}
	for _, a := range tok.Attr {
		if a.Key == "translate" && strings.EqualFold(a.Val, "no") {
			return true
		}
		if a.Key == "class" && slices.Contains(strings.Fields(a.Val), "notranslate") {
			return true
		}
	}
	return false
}

// Detect guesses the language of text from its script and a few words:
// Arabic, Chinese, Russian, then French and Spanish by common words, else
// English.
func Detect(text string) string {
	plain := StripTags(text)
	for _, r := range plain {
		switch {
		case unicode.Is(unicode.Arabic, r):
			return "ar"
		case unicode.Is(unicode.Han, r):
			return "zh"
		case unicode.Is(unicode.Cyrillic, r):
			return "ru"
		}
	}
	words := strings.FieldsFunc(strings.ToLower(plain), func(r rune) bool { return !unicode.IsLetter(r) })
	for _, w := range words {
		switch w {
		case "bonjour", "merci", "le", "la", "les", "est", "et", "à", "demain":
			return "fr"
		case "hola", "gracias", "el", "los", "y", "mañana", "hasta":
			return "es"
		}
	}
	return "en"
}

// StripTags returns the text of an HTML fragment, unescaped.
func StripTags(doc string) string {
	z := nethtml.NewTokenizer(strings.NewReader(doc))
	var out strings.Builder
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			return out.String()
		case nethtml.TextToken:
			out.Write(z.Text())
		}
	}
}
