package translate

import (
	"context"
	"fmt"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Language detection for auto-translation.
//
// A message in a channel switched on for N languages is translated into
// those it is not already in, so its language must be known first, as
// cheaply as the provider allows. Every provider bills detection: Google's
// v2 detect at the translation rate, LibreTranslate by nothing but its
// host's time (it is counted against the budget all the same), and DeepL
// has no detect endpoint at all, only the detected_source_language of a
// translation. So, in order:
//
//  1. A language already detected for the same text (by SHA-256 of the
//     normalised text, in the store's cache) costs nothing: an edit that
//     leaves the text alone, or a text posted again.
//  2. When one of the channel's languages is written in a script the
//     message is not (Arabic or Chinese for a message in Latin letters,
//     French for one in Cyrillic), the message cannot be in that language:
//     it is translated into it first, with the source left to the
//     provider, and the source it reports is the detection, free.
//  3. A short message (at most detectSample characters of text) is
//     translated into the channel's first language the same way: when it
//     turns out to be in that language, that request cost what a detect
//     request would have, and otherwise nothing was wasted.
//  4. Otherwise the first detectSample characters of its text (cut at a
//     space; no code, URLs or mentions) go to the provider's detect
//     endpoint (Google v2 detect, LibreTranslate /detect), or for DeepL are
//     translated into the channel's first language, and only the source it
//     reports is kept.
//
// Each step costs at most what asking a detect endpoint for the whole text
// would, and usually nothing.

// detectSample is how much of a message's text is sent to detect its
// language: two or three sentences, which the providers detect reliably.
const detectSample = 160

// script is a writing system, as far as telling languages apart needs.
type script int

const (
	scriptOther script = iota
	scriptLatin
	scriptCyrillic
	scriptArabic
	scriptCJK // Han, kana: Chinese and Japanese
	scriptHangul
	scriptGreek
	scriptHebrew
	scriptDevanagari
	scriptThai
)

func scriptOfRune(r rune) script {
	switch {
	case r < 0x80 && unicode.IsLetter(r), unicode.Is(unicode.Latin, r):
		return scriptLatin
	case unicode.Is(unicode.Cyrillic, r):
		return scriptCyrillic
	case unicode.Is(unicode.Arabic, r):
		return scriptArabic
	case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
		return scriptCJK
	case unicode.Is(unicode.Hangul, r):
		return scriptHangul
	case unicode.Is(unicode.Greek, r):
		return scriptGreek
	case unicode.Is(unicode.Hebrew, r):
		return scriptHebrew
	case unicode.Is(unicode.Devanagari, r):
		return scriptDevanagari
	case unicode.Is(unicode.Thai, r):
		return scriptThai
	}
	return scriptOther
}

// scriptOfLanguage is the script a language we offer is written in.
func scriptOfLanguage(code string) script {
	switch base, _, _ := strings.Cut(code, "-"); base {
	case "ru", "uk", "bg":
		return scriptCyrillic
	case "ar":
		return scriptArabic
	case "zh", "ja":
		return scriptCJK
	case "ko":
		return scriptHangul
	case "el":
		return scriptGreek
	case "he":
		return scriptHebrew
	case "hi":
		return scriptDevanagari
	case "th":
		return scriptThai
	}
	return scriptLatin
}

// cannotBe reports whether text, by its letters, cannot be in language:
// fewer than one letter in ten is in the language's script.
func cannotBe(text, language string) bool {
	want := scriptOfLanguage(language)
	letters, in := 0, 0
	for _, r := range text {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		if scriptOfRune(r) == want {
			in++
		}
	}
	return letters > 0 && in*10 < letters
}

// prose is what of a prepared message a reader would call its words:
// its text without code, mentions, emoji or URLs, and without the labels
// of links.
func (p prepared) prose() string {
	var b strings.Builder
	for _, f := range p.frags {
		switch {
		case f.html == "<br>":
			b.WriteString("\n")
		case strings.HasPrefix(f.html, "<"):
			// a protected span or a link: not prose
		default:
			b.WriteString(html.UnescapeString(f.html))
		}
	}
	return b.String()
}

// countWords counts the words of prose. Scripts written without spaces
// (Chinese, Japanese, Thai) count a word per two characters.
func countWords(prose string) int {
	n := 0
	for _, w := range strings.Fields(prose) {
		dense, letters := 0, 0
		for _, r := range w {
			switch {
			case unicode.Is(unicode.Han, r), unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r), unicode.Is(unicode.Thai, r):
				dense++
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				letters++
			}
		}
		switch {
		case dense > 0:
			n += (dense + 1) / 2
		case letters > 0:
			n++
		}
	}
	return n
}

// sample is the start of prose, at most detectSample characters, cut at
// a space when there is one in its second half.
func sample(prose string) string {
	s := strings.Join(strings.Fields(prose), " ")
	if utf8.RuneCountInString(s) <= detectSample {
		return s
	}
	cut := byteIndexOfRune(s, detectSample)
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > cut/2 {
		cut = sp
	}
	return s[:cut]
}

// detectKey is where a text's detected language is cached.
func (t *translator) detectKey(hash string) string { return "translate:detect:" + t.key + ":" + hash }

// unknownSource is cached for a text whose language we do not offer.
const unknownSource = "?"

// detected returns the cached language of a text: our code, "" for one we
// do not offer; ok is false when it was never detected.
func (t *translator) detected(ctx context.Context, hash string) (string, bool) {
	raw, ok, err := t.cache.CacheGet(ctx, t.detectKey(hash))
	if err != nil {
		t.log.WarnContext(ctx, "translation cache unavailable", "error", err)
		return "", false
	}
	if !ok {
		return "", false
	}
	if code := string(raw); code != unknownSource {
		return code, true
	}
	return "", true
}

// remember caches a text's detected language (our code, "" for unknown).
func (t *translator) remember(ctx context.Context, hash, code string) {
	if code == "" {
		code = unknownSource
	}
	if err := t.cache.CachePut(ctx, t.detectKey(hash), []byte(code), t.ttl); err != nil {
		t.log.WarnContext(ctx, "could not cache a detection", "error", err)
	}
}

// detect asks the provider for the language of text (a sample of
// prose); hint is the language DeepL translates into to find out. It
// returns our code, "" for a language we do not offer.
func (t *translator) detect(ctx context.Context, text, hint string) (string, error) {
	lang, sent, err := t.p.detect(ctx, text, hint)
	t.m.detections.WithLabelValues(t.key).Inc()
	if err != nil {
		t.m.errors.WithLabelValues(t.key, string(classify(err))).Inc()
		return "", fmt.Errorf("%s: detect: %w", t.p.name(), err)
	}
	t.bill(ctx, sent)
	return codeOf(lang), nil
}

// sameLanguage reports whether a text in source needs no translation into
// target: the same language, or Portuguese and Brazilian Portuguese
// (Simplified and Traditional Chinese are written differently, so they
// do).
func sameLanguage(source, target string) bool {
	if source == target {
		return true
	}
	a, _, _ := strings.Cut(source, "-")
	b, _, _ := strings.Cut(target, "-")
	return a == b && a != "zh"
}
