package archive_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, paris) }
	tests := []struct {
		in   string
		want archive.Query
		err  string
	}{
		{in: "budget", want: archive.Query{Terms: []archive.Term{{Text: "budget"}}}},
		{in: `  "annual  meeting" budget `, want: archive.Query{Terms: []archive.Term{{Text: "annual meeting", Phrase: true}, {Text: "budget"}}}},
		{in: `“curly quotes”`, want: archive.Query{Terms: []archive.Term{{Text: "curly quotes", Phrase: true}}}},
		{in: `"unclosed phrase`, want: archive.Query{Terms: []archive.Term{{Text: "unclosed phrase", Phrase: true}}}},
		{in: "in:#general in:random from:@ada from:<@U123> in:<#C9|dev>", want: archive.Query{
			Channels: []string{"general", "random", "dev"}, Users: []string{"ada", "U123"}}},
		{in: "on:2024-03-01", want: archive.Query{Since: day(2024, 3, 1), Before: day(2024, 3, 2)}},
		{in: "after:2024-03-01 before:2024-03-10", want: archive.Query{Since: day(2024, 3, 2), Before: day(2024, 3, 10)}},
		{in: "before:2024-03-10 before:2024-03-05", want: archive.Query{Before: day(2024, 3, 5)}},
		{in: "before:yesterday x", want: archive.Query{Terms: []archive.Term{{Text: "x"}}}, err: "before:yesterday is not a date"},
		{in: "http://example.org - !!", want: archive.Query{Terms: []archive.Term{{Text: "http://example.org"}}}},
		{in: "会议 réunion", want: archive.Query{Terms: []archive.Term{{Text: "会议"}, {Text: "réunion"}}}},
		{in: "", want: archive.Query{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := archive.ParseQuery(tt.in, paris)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error = %v, want %q", err, tt.err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseQuery(%q) =\n%+v, want\n%+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFoldAndTokens(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, fold, tokens string }{
		{"Réunion À L'ÉCOLE", "reunion a l'ecole", "reunion a l ecole"},
		{"Ｆｕｌｌｗｉｄｔｈ", "fullwidth", "fullwidth"},
		{"مُحَمَّد", "محمد", "محمد"},
		{"Ёлка", "елка", "елка"},
		{"明天会议", "明天会议", "明天 天会 会议"},
		{"会 x", "会 x", "会 x"},
		{"がっこう", "がっこう", "がっ っこ こう"},
	}
	for _, tt := range tests {
		if got := archive.Fold(tt.in); got != tt.fold {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.fold)
		}
		if got := strings.Join(archive.Tokens(archive.Fold(tt.in)), " "); got != tt.tokens {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.tokens)
		}
	}
}

func TestHighlights(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text  string
		terms []archive.Term
		want  []string
	}{
		{"La Réunion, réunions et reunion", []archive.Term{{Text: "reunion"}}, []string{"Réunion", "réunions", "reunion"}}, // stemmed
		{"La Réunion, réunions", []archive.Term{{Text: "reunion*"}}, []string{"Réunion", "réunions"}},
		{"明天的会议很长", []archive.Term{{Text: "会议"}}, []string{"会议"}},
		{"the annual meeting", []archive.Term{{Text: "annual meeting", Phrase: true}, {Text: "meeting"}}, []string{"annual meeting"}},
		{"nothing", []archive.Term{{Text: "x"}}, nil},
		{"We need Volunteers; thanks, volunteer!", []archive.Term{{Text: "volunteer"}}, []string{"Volunteers", "volunteer"}},
		{"تم تأجيل الاجتماع", []archive.Term{{Text: "اجتماع"}}, []string{"الاجتماع"}},
		{"Встречи клуба", []archive.Term{{Text: "встреча"}}, []string{"Встречи"}},
		{"Les réunions du comité", []archive.Term{{Text: "reunion"}, {Text: "comite"}}, []string{"réunions", "comité"}},
	}
	for _, tt := range tests {
		var got []string
		for _, sp := range archive.Highlights(tt.text, tt.terms) {
			got = append(got, tt.text[sp.Start:sp.End])
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Highlights(%q, %v) = %q, want %q", tt.text, tt.terms, got, tt.want)
		}
	}
}

func TestTS(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"1700000000.0001": "1700000000.000100", "1700000000": "1700000000.000000", "12.5": "0000000012.500000"} {
		if got, err := archive.NormalizeTS(in); got != want || err != nil {
			t.Errorf("NormalizeTS(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "1.2.3", "17000000000.1", "1.1234567", "-1.0"} {
		if _, err := archive.NormalizeTS(bad); err == nil {
			t.Errorf("NormalizeTS(%q) accepted", bad)
		}
	}
	if ts, err := archive.TSFromDigits("1700000000000100"); ts != "1700000000.000100" || err != nil {
		t.Errorf("TSFromDigits = %q, %v", ts, err)
	}
	if d := archive.TSDigits("1700000000.000100"); d != "1700000000000100" {
		t.Errorf("TSDigits = %q", d)
	}
}

func TestParseQueryBounds(t *testing.T) {
	t.Parallel()
	var repeated, distinct []string
	for k := range 120 {
		repeated = append(repeated, fmt.Sprintf("w%d*", k%9+1))
		distinct = append(distinct, fmt.Sprintf("word%d*", k))
	}
	tests := []struct {
		name  string
		in    string
		terms string // the terms searched, as Query.String writes them
		notes []string
	}{
		{name: "repeats match once", in: "Budget budget BUDGET \"annual  meeting\" \"Annual meeting\" plan* plan*",
			terms: `Budget "annual meeting" plan*`},
		{name: "a one-letter prefix is a word", in: "w*", terms: "w",
			notes: []string{"w* is searched as a whole word: a prefix needs at least 3 letters before the *."}},
		{name: "prefixes repeated to 1,000 bytes", in: strings.Join(repeated, " "),
			terms: "w1 w2 w3 w4 w5 w6 w7 w8 w9",
			notes: []string{"w1*, w2*, w3* and 6 more are searched as whole words: a prefix needs at least 3 letters before the *."}},
		{name: "distinct prefixes", in: strings.Join(distinct, " "),
			terms: "word0* word1* word2* word3 word4 word5 word6 word7 word8 word9",
			notes: []string{
				"word3*, word4*, word5* and 4 more are searched as whole words: a search may have at most 3 words ending in *.",
				"Only the first 10 different words and phrases are searched; 110 more were left out.",
			}},
		{name: "long phrase", in: `"a b c d e f g h i j k l"`, terms: `"a b c d e f g h i j"`,
			notes: []string{"Only the first 10 words of a phrase are searched."}},
		{name: "three-letter prefix", in: "vol* 会议*", terms: "vol* 会议", notes: []string{
			"会议* is searched as a whole word: a prefix needs at least 3 letters before the *."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := archive.ParseQuery(tt.in, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.String(); got != tt.terms {
				t.Errorf("terms = %s, want %s", got, tt.terms)
			}
			if !reflect.DeepEqual(q.Notes, tt.notes) {
				t.Errorf("notes = %q, want %q", q.Notes, tt.notes)
			}
		})
	}
}
