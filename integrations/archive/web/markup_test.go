package web

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/integrationtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testMarkup() Markup {
	return Markup{
		UserName: func(id string) string {
			return map[string]string{"U1": "Ada", "U2": "Bob <b>"}[id]
		},
		Channel: func(id string) (string, string) {
			switch id {
			case "C1":
				return "general", "/c/general/"
			case "C2":
				return "secret", ""
			}
			return "", ""
		},
		Location: time.UTC,
	}
}

func TestMarkupGolden(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"mentions":   "Hi <@U1>, <@U2> and <@U9|zed>; see <#C1|general> and <#C2> <!here> <!channel> <!subteam^S1|@mods>",
		"links":      "Read <https://example.org/a?b=1&amp;c=2|the docs> or <https://example.org> or <mailto:a@b.org|mail>; not <javascript:alert(1)|this>",
		"formatting": "*bold* _italic_ ~strike~ `code *not bold*` snake_case_name 2*3*4 *two words* _é_",
		"blocks":     "before\n```\nfunc main() {\n\t<b>\"x\" &amp; y\n}\n```\nafter",
		"quotes":     "&gt; quoted line\n&gt; second\nnot quoted",
		"emoji":      "Ship it :rocket: :tada: :custom-emoji: :wave::skin-tone-3: :flag-fr: :fr: :+1::skin-tone-6: :coffee::skin-tone-4: :flag-sa::flag-ma:",
		"dates":      "Meet <!date^1700000000^{date_short} at {time}|Nov 14> or <!date^bad^{date}|fallback>",
		"escaping":   "&lt;script&gt;alert(1)&lt;/script&gt; <img src=x onerror=alert(1)> \"quotes\" 'apostrophe'",
		"arabic":     "مرحبا *بالجميع* في <#C1>، <@U1>",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := string(testMarkup().HTML(in))
			path := filepath.Join("testdata", "markup", name+".html")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got+"\n" != string(want) {
				t.Errorf("HTML(%q) =\n%s\nwant\n%s", in, got, want)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	t.Parallel()
	got := testMarkup().Plain("Hi <@U1>, see <#C1> and <https://x.org|docs> &amp; <!here>")
	if want := "Hi @Ada, see #general and docs & @here"; got != want {
		t.Errorf("Plain = %q, want %q", got, want)
	}
}

// ourTags are the only tags the renderer writes.
var ourTags = regexp.MustCompile(`^</?(strong|em|del|code|pre|br|blockquote|span|bdi|a|time|mark)[ >]`)

func FuzzMarkup(f *testing.F) {
	for _, s := range []string{"*a* _b_ ~c~", "<@U1|x> <#C1> <http://a|b>", "```x``` `y`", "&gt; q\n&gt; r", "<!date^1^{date}|f>",
		"<script>", "<a href=\"javascript:x\">", "<javascript:alert(1)|x>", "<http://\"onmouseover=\"x|y>"} {
		f.Add(s)
	}
	m := testMarkup()
	rc := &renderCtx{markup: m}
	terms := []archive.Term{{Text: "a"}, {Text: "span"}, {Text: "class"}, {Text: "x*"}}
	f.Fuzz(func(t *testing.T, in string) {
		checkHTML(t, in, string(m.HTML(in)))
		checkHTML(t, in, string(rc.snippet(in, terms)))
	})
}

// checkHTML fails when out, rendered from in, has a tag the renderer does
// not write, a javascript: link or an event handler.
func checkHTML(t *testing.T, in, out string) {
	t.Helper()
	{
		for i := strings.IndexByte(out, '<'); i >= 0; {
			if !ourTags.MatchString(out[i:]) {
				t.Fatalf("HTML(%q) has a tag the renderer does not write: %q", in, out[i:min(len(out), i+40)])
			}
			next := strings.IndexByte(out[i+1:], '<')
			if next < 0 {
				break
			}
			i += 1 + next
		}
		if strings.Contains(out, "javascript:") && strings.Contains(out, `href="javascript:`) {
			t.Fatalf("HTML(%q) links to javascript:", in)
		}
		if strings.Contains(strings.ToLower(out), " on") && regexp.MustCompile(`<[^>]* on[a-z]+=`).MatchString(out) {
			t.Fatalf("HTML(%q) has an event handler attribute: %s", in, out)
		}
	}
}

func TestEmoji(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{
		"coffee":                        "☕",
		"thumbsup":                      "👍",
		"+1":                            "👍",
		"wave::skin-tone-3":             "👋\U0001F3FC",
		"+1::skin-tone-6":               "👍\U0001F3FF",
		"flag-fr":                       "🇫🇷",
		"fr":                            "🇫🇷",
		"flag-sa":                       "🇸🇦",
		"man-heart-man::skin-tone-2":    "👨\U0001F3FB\u200d❤️\u200d👨\U0001F3FB",
		"female-doctor::skin-tone-5":    "👩\U0001F3FE\u200d⚕️",
		"coffee::skin-tone-4":           "☕", // takes no tone
		"wave::skin-tone-9":             "👋",
		"partyparrot":                   ":partyparrot:", // a workspace's own
		"skin-tone-3":                   "\U0001F3FC",
		"slightly_smiling_face":         "🙂",
		"rolling_on_the_floor_laughing": "🤣",
		"simple_smile":                  "🙂",
	} {
		if got := Emoji(code); got != want {
			t.Errorf("Emoji(%q) = %q, want %q", code, got, want)
		}
	}
	if n := len(emojiNames); n < 1900 {
		t.Errorf("Slack's table has %d codes; want them all (1,900 and more)", n)
	}
}

// TestCorpusEmoji renders the emoji codes of the real Slack exports in the
// archive's corpus (texts and reactions): every one Slack would draw from
// its table is drawn, so only a workspace's own emoji (and times such as
// "12:57:" that look like codes) stay as :code:.
func TestCorpusEmoji(t *testing.T) {
	t.Parallel()
	custom := map[string]bool{"neerajt": true, "micah": true, "botman": true} // those workspaces' own emoji
	files, err := filepath.Glob(filepath.Join(integrationtest.Corpus(t, "archive"), "*", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no corpus (%v)", err)
	}
	known, total := 0, 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ms []struct {
			Text      string `json:"text"`
			Reactions []struct {
				Name string `json:"name"`
			} `json:"reactions"`
		}
		if json.Unmarshal(b, &ms) != nil {
			continue // not a day file
		}
		for _, m := range ms {
			var codes []string
			for _, x := range emojiRE.FindAllStringSubmatch(m.Text, -1) {
				codes = append(codes, strings.TrimSuffix(x[1]+"::"+x[2], "::"))
			}
			for _, r := range m.Reactions {
				codes = append(codes, r.Name)
			}
			for _, c := range codes {
				if custom[c] || strings.Trim(c, "0123456789") == "" {
					continue
				}
				total++
				if _, ok := emojiFor(c); ok {
					known++
				} else {
					t.Errorf("the corpus's :%s: is not drawn", c)
				}
			}
		}
	}
	t.Logf("%d of %d emoji codes of the corpus drawn", known, total)
	if total < 100 {
		t.Errorf("only %d emoji codes found in the corpus", total)
	}
}
