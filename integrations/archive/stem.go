package archive

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/french"
	"github.com/kljensen/snowball/russian"
	"github.com/kljensen/snowball/spanish"
)

// Stems returns the stems of a folded search token (see Fold and Tokens)
// that differ from it, so that a word finds its other forms: volunteers →
// volunteer, reunions → reunion, встречи → встреч, الاجتماع → اجتماع.
// A message's language is not known (and a short one cannot be guessed),
// so a Latin-script word gets its English, French and Spanish stems
// (Snowball), a Cyrillic one its Russian stem, an Arabic one its light
// stem (the article and common prefixes and suffixes stripped); Chinese,
// Japanese and Korean tokens, numbers and words of other scripts get none.
// The index stores a message's stems beside its words, and a word query
// matches any of the word's own stems, so both sides meet on the same
// stem whichever language it came from.
func Stems(token string) []string {
	if utf8.RuneCountInString(token) < 3 {
		return nil
	}
	var out []string
	add := func(s string) {
		if s != "" && s != token && !contains(out, s) {
			out = append(out, s)
		}
	}
	switch scriptOf(token) {
	case latin:
		add(english.Stem(token, false))
		add(french.Stem(token, false))
		add(spanish.Stem(token, false))
	case cyrillic:
		add(russian.Stem(token, false))
	case arabic:
		add(arabicStem(token))
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type script int

const (
	otherScript script = iota
	latin
	cyrillic
	arabic
)

// scriptOf is the script of a token's letters, or otherScript when it has
// none, mixes scripts or has digits (v2, 3pm, w123: codes, not words).
func scriptOf(token string) script {
	s, letters := otherScript, 0
	for _, r := range token {
		var rs script
		switch {
		case unicode.IsDigit(r):
			return otherScript
		case r < 0x250 && unicode.IsLetter(r):
			rs = latin
		case unicode.Is(unicode.Cyrillic, r):
			rs = cyrillic
		case unicode.Is(unicode.Arabic, r):
			rs = arabic
		default:
			return otherScript
		}
		if letters > 0 && rs != s {
			return otherScript
		}
		s = rs
		letters++
	}
	return s
}

// Arabic light stemming (after Larkey, Ballesteros and Connell's "light10"):
// a leading و ("and"), then one definite article or particle with it, then
// common suffixes (plural, dual, feminine, possessive), each only while two
// letters at least remain.
var (
	arabicArticles = []string{"وال", "بال", "كال", "فال", "لل", "ال"}
	arabicSuffixes = []string{"ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي"}
)

func arabicStem(w string) string {
	runes := func(s string) int { return utf8.RuneCountInString(s) }
	if strings.HasPrefix(w, "و") && runes(w) > 3 {
		w = strings.TrimPrefix(w, "و")
	}
	for _, p := range arabicArticles {
		if strings.HasPrefix(w, p) && runes(w)-runes(p) >= 2 {
			w = strings.TrimPrefix(w, p)
			break
		}
	}
	for _, s := range arabicSuffixes {
		if strings.HasSuffix(w, s) && runes(w)-runes(s) >= 2 {
			w = strings.TrimSuffix(w, s)
		}
	}
	return w
}
