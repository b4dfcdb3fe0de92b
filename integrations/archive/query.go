package archive

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Query is a parsed search: words and phrases that must all match, and
// Slack's own filters.
type Query struct {
	Terms    []Term
	Channels []string  // in:#name (names or IDs); any of them
	Users    []string  // from:@handle (handles or IDs); any of them
	Since    time.Time // inclusive; zero: no bound (after:, on:)
	Before   time.Time // exclusive; zero: no bound (before:, on:)
	Newest   bool      // newest first instead of best match first
	Limit    int       // page size; 0 means 20
	Offset   int

	// Notes say how ParseQuery narrowed the search to keep it fast (a
	// prefix too short, words beyond the cap): sentences to show beside
	// the results.
	Notes []string
}

// Term is a word (which may end in * for a prefix) or a "quoted phrase".
type Term struct {
	Text   string
	Phrase bool
}

// Empty reports whether q has neither terms nor filters.
func (q Query) Empty() bool {
	return len(q.Terms) == 0 && len(q.Channels) == 0 && len(q.Users) == 0 && q.Since.IsZero() && q.Before.IsZero()
}

// PageSize is q.Limit or the default of 20.
func (q Query) PageSize() int {
	if q.Limit <= 0 {
		return 20
	}
	return min(q.Limit, 200)
}

// DateLayout is the date format of before:, after: and on: (and of day
// pages): YYYY-MM-DD.
const DateLayout = "2006-01-02"

// Bounds on what one search may ask, so no query (pasted or hostile) costs
// more than a few index lookups: the index matches every term separately,
// and a prefix term merges the lists of every word that starts with it.
const (
	// maxQuery bounds what ParseQuery reads, so a pasted novel is not a
	// query.
	maxQuery = 1000
	// MaxTerms is how many distinct words and phrases a search matches;
	// later ones are left out (and a note says so).
	MaxTerms = 10
	// MaxPhraseWords is how many words of a phrase are matched.
	MaxPhraseWords = 10
	// MaxPrefixTerms is how many of the terms may be prefixes (word*);
	// later prefixes are searched as whole words.
	MaxPrefixTerms = 3
	// MinPrefix is how many letters or digits a prefix needs before its
	// *; a shorter one is searched as a whole word.
	MinPrefix = 3
)

// ErrTooBroad is returned (wrapped) by Archive.Search when the search ran
// out of time (its context's deadline passed): it matches too much, and
// more words or filters would narrow it.
var ErrTooBroad = errors.New("archive: search too broad for its time limit")

// ErrBusy is returned (wrapped) by Archive.Search when its context's
// deadline passed before the search could start, because as many searches
// as the archive runs at once were already running.
var ErrBusy = errors.New("archive: too many searches running")

// ParseQuery parses a search as Slack's search box reads it:
//
//	budget "annual meeting" in:#general from:@ada after:2024-01-31 before:2024-03-01 on:2024-02-14
//
// Dates are days in loc: after: means from the next day on, before: up to
// the day before, on: that day. Channel and user filters may repeat (any of
// them matches) and may be Slack references (<#C123|general>, <@U123>). An
// unknown "word:" is searched as a word. A malformed date is an error
// naming it.
//
// Repeated terms are matched once, and the search is bounded (MaxTerms,
// MaxPhraseWords, MaxPrefixTerms, MinPrefix); each narrowing is told in
// q.Notes, never as an error.
func ParseQuery(s string, loc *time.Location) (Query, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(s) > maxQuery {
		s = s[:maxQuery]
	}
	var q Query
	var errs []error
	for _, tok := range splitQuery(s) {
		if tok.quoted {
			if strings.TrimSpace(tok.text) != "" {
				q.Terms = append(q.Terms, Term{Text: strings.Join(strings.Fields(tok.text), " "), Phrase: true})
			}
			continue
		}
		key, val, ok := strings.Cut(tok.text, ":")
		if ok && val != "" {
			switch strings.ToLower(key) {
			case "in":
				q.Channels = append(q.Channels, refName(val, "#"))
				continue
			case "from":
				q.Users = append(q.Users, refName(val, "@"))
				continue
			case "before", "after", "on":
				d, err := time.ParseInLocation(DateLayout, val, loc)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s:%s is not a date like %s:2024-03-01", key, val, key))
					continue
				}
				next := d.AddDate(0, 0, 1)
				switch strings.ToLower(key) {
				case "before":
					q.Before = earliest(q.Before, d)
				case "after":
					q.Since = latest(q.Since, next)
				case "on":
					q.Since, q.Before = latest(q.Since, d), earliest(q.Before, next)
				}
				continue
			}
		}
		if strings.IndexFunc(tok.text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) < 0 {
			continue // punctuation alone matches nothing
		}
		q.Terms = append(q.Terms, Term{Text: tok.text})
	}
	q.bound()
	return q, errors.Join(errs...)
}

// bound dedupes q's terms and applies the caps on terms, phrase words and
// prefixes, noting each change.
func (q *Query) bound() {
	seen := map[string]bool{}
	var terms []Term
	var short, extra []string // prefixes searched as whole words
	prefixes, dropped, cut := 0, 0, false
	for _, t := range q.Terms {
		var note *[]string
		if t.Phrase {
			if words := strings.Fields(t.Text); len(words) > MaxPhraseWords {
				t.Text, cut = strings.Join(words[:MaxPhraseWords], " "), true
			}
		} else if strings.HasSuffix(t.Text, "*") {
			stem := strings.TrimRight(t.Text, "*")
			toks := Tokens(Fold(stem))
			switch {
			case len(toks) == 0:
				continue
			case utf8.RuneCountInString(toks[len(toks)-1]) < MinPrefix:
				t.Text, note = stem, &short
			case prefixes == MaxPrefixTerms:
				t.Text, note = stem, &extra
			default:
				t.Text = stem + "*"
			}
		}
		key := termKey(t)
		if seen[key] {
			continue
		}
		if len(terms) == MaxTerms {
			dropped++
			continue
		}
		seen[key] = true
		if note != nil {
			*note = append(*note, t.Text+"*")
		} else if !t.Phrase && strings.HasSuffix(t.Text, "*") {
			prefixes++
		}
		terms = append(terms, t)
	}
	q.Terms = terms
	if len(short) > 0 {
		q.Notes = append(q.Notes, fmt.Sprintf("%s: a prefix needs at least %d letters before the *.", asWholeWords(short), MinPrefix))
	}
	if len(extra) > 0 {
		q.Notes = append(q.Notes, fmt.Sprintf("%s: a search may have at most %d words ending in *.", asWholeWords(extra), MaxPrefixTerms))
	}
	if cut {
		q.Notes = append(q.Notes, fmt.Sprintf("Only the first %d words of a phrase are searched.", MaxPhraseWords))
	}
	if dropped > 0 {
		q.Notes = append(q.Notes, fmt.Sprintf("Only the first %d different words and phrases are searched; %d more were left out.", MaxTerms, dropped))
	}
}

// termKey is what makes two terms the same search.
func termKey(t Term) string {
	key := strings.Join(Tokens(Fold(strings.TrimRight(t.Text, "*"))), " ")
	switch {
	case t.Phrase:
		return `"` + key + `"`
	case strings.HasSuffix(t.Text, "*"):
		return key + "*"
	}
	return key
}

// asWholeWords says that prefixes were searched as whole words, naming up
// to three: "w* is searched as a whole word", "w1*, w2* and 5 more are
// searched as whole words".
func asWholeWords(ws []string) string {
	switch n := len(ws); {
	case n == 1:
		return ws[0] + " is searched as a whole word"
	case n <= 3:
		return strings.Join(ws[:n-1], ", ") + " and " + ws[n-1] + " are searched as whole words"
	default:
		return fmt.Sprintf("%s and %d more are searched as whole words", strings.Join(ws[:3], ", "), n-3)
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

// refName turns "#general", "<#C123|general>", "@ada" or "<@U123>" into a
// bare name or ID.
func refName(v, sigil string) string {
	if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
		v = strings.TrimPrefix(v, sigil)
		if id, name, ok := strings.Cut(v, "|"); ok && name != "" {
			if sigil == "#" {
				return name
			}
			return id
		}
		return v
	}
	return strings.TrimPrefix(v, sigil)
}

type queryToken struct {
	text   string
	quoted bool
}

// splitQuery splits on spaces, keeping "quoted phrases" (straight or
// typographic quotes) together; an unclosed quote runs to the end.
func splitQuery(s string) []queryToken {
	var out []queryToken
	var cur strings.Builder
	quoted := false
	flush := func(q bool) {
		if cur.Len() > 0 || q {
			out = append(out, queryToken{text: cur.String(), quoted: q})
		}
		cur.Reset()
	}
	for _, r := range s {
		switch {
		case r == '"' || r == '“' || r == '”':
			flush(quoted)
			quoted = !quoted
		case unicode.IsSpace(r) && !quoted:
			flush(false)
		default:
			cur.WriteRune(r)
		}
	}
	flush(quoted)
	return out
}

// String formats q back as a query a user could type.
func (q Query) String() string {
	var parts []string
	for _, t := range q.Terms {
		if t.Phrase {
			parts = append(parts, `"`+t.Text+`"`)
		} else {
			parts = append(parts, t.Text)
		}
	}
	for _, c := range q.Channels {
		parts = append(parts, "in:#"+c)
	}
	for _, u := range q.Users {
		parts = append(parts, "from:@"+u)
	}
	if !q.Since.IsZero() {
		parts = append(parts, "after:"+q.Since.AddDate(0, 0, -1).Format(DateLayout))
	}
	if !q.Before.IsZero() {
		parts = append(parts, "before:"+q.Before.Format(DateLayout))
	}
	return strings.Join(parts, " ")
}
