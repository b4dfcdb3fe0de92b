package digest

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuoteLine(t *testing.T) {
	t.Parallel()
	users := func(id string) string {
		if id == "U1" {
			return "ana"
		}
		return ""
	}
	long := strings.Repeat("word ", 40)
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "hello world", "hello world"},
		{"first line only", "\n\n  first  \nsecond", "first"},
		{"code fence", "```\nfmt.Println(1)\n```", "fmt.Println(1)"},
		{"mention with label", "ask <@U9|bo>", "ask @bo"},
		{"mention looked up", "ask <@U1>", "ask @ana"},
		{"mention unknown", "ask <@U2>", "ask @someone"},
		{"channel", "see <#C1|news>", "see #news"},
		{"channel without name", "see <#C1>", "see #channel"},
		{"here pings nobody", "<!here> and <!channel> and <!everyone>", "@here and @channel and @everyone"},
		{"group", "<!subteam^S1|@mods> please", "@mods please"},
		{"group without handle", "<!subteam^S1> please", "@group please"},
		{"date", "<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"},
		{"link with label", "<https://x.org/a?b=1&amp;c=2|the notes>", "the notes"},
		{"bare link", "<https://x.org/a?b=1&amp;c=2>", "https://x.org/a?b=1&amp;c=2"},
		{"mailto", "<mailto:a@b.org|write>", "write"},
		{"escapes kept safe", "1 &lt; 2 &amp;&amp; 3 &gt; 2", "1 &lt; 2 &amp;&amp; 3 &gt; 2"},
		{"forged link stays text", "&lt;https://evil|innocent&gt;", "&lt;https://evil|innocent&gt;"},
		{"unclosed", "a <b", "a &lt;b"},
		{"long", long, strings.Repeat("word ", 23) + "word…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quoteLine(tc.in, users); got != tc.want {
				t.Errorf("quoteLine(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzQuoteLine: whatever a message says, its quote is one line, short,
// valid UTF-8 when the input is, and holds no Slack markup (no <, > or a
// bare &), so it cannot ping, mention or link.
func FuzzQuoteLine(f *testing.F) {
	for _, s := range []string{"hi", "<@U1|a> <!here> <https://x|y>", "&lt;&gt;&amp;", "<<>>", "a\nb", "```x```", "<!subteam^S|@m>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := quoteLine(s, func(string) string { return "<@U1>" })
		if strings.ContainsAny(got, "<>\n") {
			t.Fatalf("quoteLine(%q) = %q: markup or a newline left", s, got)
		}
		if strings.Contains(strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(got), "&") {
			t.Fatalf("quoteLine(%q) = %q: an unescaped &", s, got)
		}
		if utf8.ValidString(s) && utf8.RuneCountInString(got) > maxLineRunes*5 {
			t.Fatalf("quoteLine(%q) is %d runes long", s, utf8.RuneCountInString(got))
		}
	})
}
