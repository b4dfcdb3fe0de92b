package calls

import (
	"encoding/base32"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"
)

const (
	// maxSlug bounds the readable part of a room name, in bytes.
	maxSlug = 40
	// roomRandomBytes is the random part of a room name: 10 bytes are 80
	// bits, 16 base32 characters.
	roomRandomBytes = 10
	// fallbackSlug names rooms whose topic leaves no ASCII letter or digit
	// (no topic, or one in Arabic, Chinese, ...).
	fallbackSlug = "townhall-call"
)

// roomEncoding is lowercase base32 without padding: Jitsi room names are
// case-insensitive, so only lowercase letters keep the full 5 bits each.
var roomEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// roomName returns a Jitsi room name: a readable slug of topic, a hyphen,
// and 80 bits from rnd, e.g. "budget-review-mfrggzdfmztwq2lk".
func roomName(rnd io.Reader, topic string) (string, error) {
	var b [roomRandomBytes]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("read random room name: %w", err)
	}
	s := slug(topic)
	if s == "" {
		s = fallbackSlug
	}
	return s + "-" + roomEncoding.EncodeToString(b[:]), nil
}

// roomURL returns the room's URL on the Jitsi server at base. name must be
// a roomName (ASCII letters, digits and hyphens, so nothing to escape).
func roomURL(base *url.URL, name string) string {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + name
	u.RawPath = ""
	return u.String()
}

// slug makes a readable, URL-safe name of topic: lowercase ASCII letters
// and digits in words joined by single hyphens, at most maxSlug bytes, cut
// at a word boundary where possible. Accented Latin letters and Cyrillic are
// transliterated ("Révision du budget" → "revision-du-budget", "Обзор" →
// "obzor"); apostrophes vanish ("don't" → "dont"); every other character
// separates words. The result may be "" (no topic, or a topic in a script
// with no transliteration).
func slug(topic string) string {
	var b strings.Builder
	pendingHyphen := false
	for _, r := range topic {
		var s string
		r = unicode.ToLower(r)
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			s = string(r)
		default:
			t, ok := transliteration[r]
			if !ok {
				pendingHyphen = true
				continue
			}
			s = t
		}
		if s == "" {
			continue
		}
		if pendingHyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		pendingHyphen = false
		b.WriteString(s)
		if b.Len() > maxSlug {
			break
		}
	}
	out := b.String()
	if len(out) <= maxSlug {
		return out
	}
	// Cut at the last word boundary that keeps at least half the length,
	// or else mid-word.
	cut := out[:maxSlug]
	if out[maxSlug] != '-' {
		if i := strings.LastIndexByte(cut, '-'); i >= maxSlug/2 {
			cut = cut[:i]
		}
	}
	return strings.TrimRight(cut, "-")
}

// transliteration maps lowercase letters to ASCII: the Latin letters of the
// European languages (Latin-1 Supplement, Latin Extended-A, and the Romanian
// comma-below letters) and Russian and Ukrainian Cyrillic (a simplified
// BGN/PCGN romanisation). An empty value drops the character without
// separating words.
var transliteration = map[rune]string{
	// Apostrophes join words: "l'équipe" → "lequipe", "don't" → "dont".
	'\'': "", '’': "", 'ʼ': "",

	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'æ': "ae",
	'ç': "c", 'ć': "c", 'ĉ': "c", 'ċ': "c", 'č': "c",
	'ď': "d", 'đ': "d", 'ð': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ĕ': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'ĝ': "g", 'ğ': "g", 'ġ': "g", 'ģ': "g",
	'ĥ': "h", 'ħ': "h",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ĩ': "i", 'ī': "i", 'ĭ': "i", 'į': "i", 'ı': "i",
	'ĳ': "ij", 'ĵ': "j", 'ķ': "k",
	'ĺ': "l", 'ļ': "l", 'ľ': "l", 'ŀ': "l", 'ł': "l",
	'ñ': "n", 'ń': "n", 'ņ': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ŏ': "o", 'ő': "o",
	'œ': "oe",
	'ŕ': "r", 'ŗ': "r", 'ř': "r",
	'ś': "s", 'ŝ': "s", 'ş': "s", 'š': "s", 'ș': "s", 'ß': "ss",
	'ţ': "t", 'ť': "t", 'ŧ': "t", 'ț': "t", 'þ': "th",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ũ': "u", 'ū': "u", 'ŭ': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'ŵ': "w", 'ý': "y", 'ÿ': "y", 'ŷ': "y",
	'ź': "z", 'ż': "z", 'ž': "z",

	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'ґ': "g", 'д': "d", 'е': "e", 'ё': "e", 'є': "ye",
	'ж': "zh", 'з': "z", 'и': "i", 'і': "i", 'ї': "yi", 'й': "y", 'к': "k", 'л': "l", 'м': "m",
	'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh",
	'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu",
	'я': "ya",
}
