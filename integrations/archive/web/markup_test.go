package web

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
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
		"emoji":      "Ship it :rocket: :tada: :custom-emoji:",
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
