package archive

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold returns s as search compares it: lower case, compatibility forms
// unified and combining marks removed, so "Réunion" folds to "reunion" and
// Arabic harakat do not stop a match. Japanese voicing marks are kept (か
// and が are different words). Fold works rune by rune, so each rune of s
// folds to a whole number of runes of the result (see FoldMap).
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		foldRune(&b, r)
	}
	return b.String()
}

// FoldMap is Fold that also returns, for each byte offset of the folded
// string, the byte offset in s of the rune it came from (plus one final
// entry for the end), so a match in the folded text can be highlighted in
// the original.
func FoldMap(s string) (string, []int) {
	var b strings.Builder
	b.Grow(len(s))
	offs := make([]int, 0, len(s)+1)
	for i, r := range s {
		n := b.Len()
		foldRune(&b, r)
		for range b.Len() - n {
			offs = append(offs, i)
		}
	}
	offs = append(offs, len(s))
	return b.String(), offs
}

func foldRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteByte(byte(r))
		return
	}
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	d := norm.NFKD.Bytes(buf[:n])
	var out [4 * utf8.UTFMax]byte
	o := out[:0]
	voiced := false
	for len(d) > 0 {
		c, size := utf8.DecodeRune(d)
		d = d[size:]
		if c == 0x3099 || c == 0x309A {
			voiced = true
		} else if unicode.Is(unicode.Mn, c) {
			continue
		}
		o = utf8.AppendRune(o, unicode.ToLower(c))
	}
	if voiced { // keep が as one rune: recompose the kana with its mark
		o = norm.NFC.Bytes(o)
	}
	b.Write(o)
}

// IsCJK reports whether r belongs to a script written without spaces
// between words (Han, Hiragana, Katakana, Hangul), which search indexes by
// overlapping pairs of characters.
func IsCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r == 0x30FC // the katakana long vowel mark, in common script
}

// isWordRune is what a search token is made of; everything else separates.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r) ||
		r == 0x3099 || r == 0x309A
}

// Tokens splits folded text into search tokens: runs of letters and digits,
// with each run of CJK characters turned into its overlapping pairs ("会议
// 开始" gives 会议 议开 开始), or the character itself when it stands alone.
// A query for a CJK word of two or more characters is then the phrase of its
// pairs, and a one-character query is found through Unigrams.
func Tokens(folded string) []string {
	var out []string
	var cjk []rune
	flush := func() {
		switch len(cjk) {
		case 0:
		case 1:
			out = append(out, string(cjk))
		default:
			for i := 0; i+1 < len(cjk); i++ {
				out = append(out, string(cjk[i:i+2]))
			}
		}
		cjk = cjk[:0]
	}
	start := -1
	for i, r := range folded {
		switch {
		case IsCJK(r):
			if start >= 0 {
				out = append(out, folded[start:i])
				start = -1
			}
			cjk = append(cjk, r)
		case isWordRune(r):
			flush()
			if start < 0 {
				start = i
			}
		default:
			flush()
			if start >= 0 {
				out = append(out, folded[start:i])
				start = -1
			}
		}
	}
	flush()
	if start >= 0 {
		out = append(out, folded[start:])
	}
	return out
}

// Unigrams returns the single CJK characters of folded text, each once, so
// a one-character query finds them inside longer runs.
func Unigrams(folded string) []string {
	var out []string
	seen := map[rune]bool{}
	for _, r := range folded {
		if IsCJK(r) && !seen[r] {
			seen[r] = true
			out = append(out, string(r))
		}
	}
	return out
}

// Span is a byte range [Start, End) of a text.
type Span struct{ Start, End int }

// Highlights finds where the query's terms occur in text, comparing folded
// forms, and returns the matching byte ranges of text in order, without
// overlaps.
func Highlights(text string, terms []Term) []Span {
	folded, offs := FoldMap(text)
	var spans []Span
	for _, t := range terms {
		needle := Fold(strings.TrimSuffix(t.Text, "*"))
		if strings.TrimSpace(needle) == "" {
			continue
		}
		if !t.Phrase && !strings.HasSuffix(t.Text, "*") {
			if toks := Tokens(needle); len(toks) == 1 && scriptOf(toks[0]) != otherScript {
				spans = append(spans, stemSpans(text, folded, offs, toks[0])...)
				continue
			}
		}
		for i := 0; i < len(folded); {
			j := strings.Index(folded[i:], needle)
			if j < 0 {
				break
			}
			s, e := i+j, i+j+len(needle)
			prefix := !t.Phrase && strings.HasSuffix(t.Text, "*")
			if t.Phrase || boundary(folded, s, e, prefix) {
				for prefix && e < len(folded) {
					r, size := utf8.DecodeRuneInString(folded[e:])
					if !isWordRune(r) || IsCJK(r) {
						break
					}
					e += size
				}
				spans = append(spans, Span{offs[s], endOf(text, offs, e)})
			}
			i = e
		}
	}
	if len(spans) < 2 {
		return spans
	}
	slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if sp.Start <= last.End {
			last.End = max(last.End, sp.End)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// stemSpans finds the words of folded that share a stem with word (as
// search matches them, see Stems), as byte ranges of text.
func stemSpans(text, folded string, offs []int, word string) []Span {
	want := append([]string{word}, Stems(word)...)
	var spans []Span
	for i := 0; i < len(folded); {
		r, size := utf8.DecodeRuneInString(folded[i:])
		if !isWordRune(r) || IsCJK(r) {
			i += size
			continue
		}
		j := i
		for j < len(folded) {
			r, size := utf8.DecodeRuneInString(folded[j:])
			if !isWordRune(r) || IsCJK(r) {
				break
			}
			j += size
		}
		tok := folded[i:j]
		match := contains(want, tok)
		for _, s := range Stems(tok) {
			match = match || contains(want, s)
		}
		if match {
			spans = append(spans, Span{offs[i], endOf(text, offs, j)})
		}
		i = j
	}
	return spans
}

// endOf maps the folded end offset e back to text: the end of the rune the
// last matched byte came from.
func endOf(text string, offs []int, e int) int {
	if e >= len(offs)-1 {
		return len(text)
	}
	if e > 0 && offs[e] == offs[e-1] { // inside one rune's folding
		_, size := utf8.DecodeRuneInString(text[offs[e]:])
		return offs[e] + size
	}
	return offs[e]
}

// boundary reports whether folded[s:e] is a whole word (CJK text has no
// word boundaries, so any match there counts).
func boundary(folded string, s, e int, prefix bool) bool {
	first, _ := utf8.DecodeRuneInString(folded[s:])
	if IsCJK(first) {
		return true
	}
	if s > 0 {
		r, _ := utf8.DecodeLastRuneInString(folded[:s])
		if isWordRune(r) && !IsCJK(r) {
			return false
		}
	}
	if e < len(folded) && !prefix {
		r, _ := utf8.DecodeRuneInString(folded[e:])
		if isWordRune(r) && !IsCJK(r) {
			return false
		}
	}
	return true
}
