package translate

import (
	"context"
	"fmt"
	"html"
	"strings"
	"sync"
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
// translation. So:
//
//  1. A language already detected for the same text (by SHA-256 of the
//     normalised text, in the store's cache) costs nothing: an edit that
//     leaves the text alone, or a text posted again.
//  2. Otherwise the channel's language the message is least likely to be
//     in is chosen: one written in a script the message is not (Arabic or
//     Chinese for a message in Latin letters) cannot be it at all; among
//     the others, the one least often detected for the channel's messages
//     in that script so far (in this process, counted from a uniform
//     start).
//  3. If that language has no chance, or the message is short (at most
//     detectSample characters), or its chance times the message's length
//     is under detectSample, the message is translated into it first, the
//     source left to the provider: the source it reports is the
//     detection. It costs nothing extra unless the message was in that
//     language after all, and then no more than a sample would have, on
//     average.
//  4. Otherwise the first detectSample characters of its prose (cut at a
//     space; no code, URLs or mentions) go to the provider's detect
//     endpoint (Google v2 detect, LibreTranslate /detect), or for DeepL
//     are translated into that language, and only the source it reports
//     is kept.
//
// The choice between 3 and 4 minimises the expected cost: translating
// first wastes the message's length when the guess is wrong, a sample
// always costs detectSample.

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

// dominantScript is the script most of prose's letters are in.
func dominantScript(prose string) script {
	counts := make(map[script]int)
	best, most := scriptOther, 0
	for _, r := range prose {
		if !unicode.IsLetter(r) {
			continue
		}
		sc := scriptOfRune(r)
		counts[sc]++
		if counts[sc] > most {
			best, most = sc, counts[sc]
		}
	}
	return best
}

// sources counts the languages detected per conversation and script, to
// guess which of a channel's languages its next message is least likely
// to be in. It is safe for concurrent use; it is kept in memory, and
// starts again at a restart.
type sources struct {
	mu     sync.Mutex
	counts map[sourcesKey]map[string]int
}

type sourcesKey struct {
	where  string
	script script
}

// maxSourcesKept bounds the conversations remembered; past it, counting
// starts again.
const maxSourcesKept = 10000

func newSources() *sources { return &sources{counts: make(map[sourcesKey]map[string]int)} }

// seen counts a message of where, in script, detected as lang.
func (s *sources) seen(where string, sc script, lang string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sourcesKey{where, sc}
	if s.counts[k] == nil {
		if len(s.counts) >= maxSourcesKept {
			s.counts = make(map[sourcesKey]map[string]int)
		}
		s.counts[k] = make(map[string]int)
	}
	s.counts[k][lang]++
}

// unlikeliest returns the language of languages a message of where, in
// script sc, is least likely to be in, and that chance: 0 for a language
// written in another script, else the share of the conversation's
// messages in that script detected as it, with one more of each language
// (and one of any other) counted, so that a new channel starts even. Ties
// go to the first in languages.
func (s *sources) unlikeliest(where string, sc script, prose string, languages []string) (string, float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := s.counts[sourcesKey{where, sc}]
	total := 1 // any other language
	for _, c := range counts {
		total += c
	}
	possible := 0
	for _, l := range languages {
		if !cannotBe(prose, l) {
			possible++
		}
	}
	best, chance := "", 2.0
	for _, l := range languages {
		p := 0.0
		if !cannotBe(prose, l) {
			p = float64(counts[l]+1) / float64(total+possible)
		}
		if p < chance {
			best, chance = l, p
		}
	}
	return best, chance
}
