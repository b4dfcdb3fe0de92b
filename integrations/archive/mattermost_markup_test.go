package archive

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func testConverter() *mdConverter {
	return &mdConverter{
		users:    map[string]string{"U1": "ada", "U2": "bob.smith"},
		channels: map[string]string{"C1": "general", "C2": "dev-talk"},
		byName:   map[string]string{"general": "general", "dev_talk": "dev-talk"},
	}
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "hello world", "hello world"},
		{"bold", "a *bold* word", "a **bold** word"},
		{"italic", "an _italic_ word", "an *italic* word"},
		{"strike", "~gone~ now", "~~gone~~ now"},
		{"nested", "*bold _and italic_*", "**bold *and italic***"},
		{"formatting needs word boundaries", "snake_case_name and 2*3*4", `snake\_case\_name and 2\*3\*4`},
		{"lone delimiters", "* not a list, _ nor ~", `\* not a list, \_ nor \~`},
		{"code", "run `go test ./...` now", "run `go test ./...` now"},
		{"code keeps its text", "`*not bold* &lt;b&gt; <@U1>`", "`*not bold* <b> @ada`"},
		{"pre", "look:```a *b*\n&lt;c&gt;```done", "look:\n```\na *b*\n<c>\n```\ndone"},
		{"pre alone", "```\nx := 1\n```", "```\nx := 1\n```"},
		{"unclosed pre", "a ``` b", "a \\`\\`\\` b"},
		{"quote", "&gt; quoted\nnot quoted", "> quoted\n\nnot quoted"},
		{"quote lines", "&gt; one\n&gt; two", "> one\n> two"},
		{"quote all", "intro\n&gt;&gt;&gt; all\nof this\n\nand this", "intro\n> all\n> of this\n>\n> and this"},
		{"nested quote marker is text", "&gt; &gt; x", "> &gt; x"},
		{"link", "see <https://example.org/a?b=1&amp;c=2|the docs>", "see [the docs](https://example.org/a?b=1&c=2)"},
		{"bare link", "<https://example.org>", "[https://example.org](https://example.org)"},
		{"link with parens", "<https://en.wikipedia.org/wiki/Go_(language)|Go>", "[Go](https://en.wikipedia.org/wiki/Go_%28language%29)"},
		{"mailto", "<mailto:ada@example.org|ada@example.org>", "[ada@example.org](mailto:ada@example.org)"},
		{"bold link", "*<https://x.org|x>*", "**[x](https://x.org)**"},
		{"link label escaped", "<https://x.org|[a](b)>", `[\[a\](b)](https://x.org)`},
		{"javascript link is text", "<javascript:alert(1)|click>", "click"},
		{"mention", "thanks <@U1> and <@U2|bob>", "thanks @ada and @bob.smith"},
		{"unknown mention", "hi <@U9|zed>", "hi @\u2060zed"},
		{"channel", "in <#C2|dev_talk> and <#C1>", "in ~dev-talk and ~general"},
		{"unknown channel", "in <#C9|secret>", `in #secret`},
		{"channel by name", "in <#C8|dev_talk>", "in ~dev-talk"},
		{"special mentions", "<!channel> <!here|here> <!everyone>", "`@channel` `@here` `@all`"},
		{"user group", "<!subteam^S1|@helpers>", "@\u2060helpers"},
		{"date", "<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"},
		{"literal at", "@channel and @bob, ada@example.org", "@\u2060channel and @\u2060bob, ada@example.org"},
		{"html stays text", "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more", "&lt;script&gt;alert(1)&lt;/script&gt; & more"},
		{"entity lookalike", "&amp;copy; &amp;#169;", "&amp;copy; &amp;#169;"},
		{"markdown link injection", "[click](https://evil.example) ![x](https://t.example/p.gif)", `\[click\](https://evil.example) !\[x\](https://t.example/p.gif)`},
		{"heading", "# not a heading", `\# not a heading`},
		{"list", "- not\n+ a\n1. list\n2) either", "\\- not\n\\+ a\n1\\. list\n2\\) either"},
		{"rule", "---", `\---`},
		{"setext", "title\n===", "title\n\\==="},
		{"table", "| a | b |\n|---|---|", `\| a \| b \|` + "\n" + `\|---\|---\|`},
		{"indent", "    not code", "\u00a0\u00a0\u00a0\u00a0not code"},
		{"backslash", `C:\path\*`, `C:\\path\\\*`},
		{"emoji", ":tada: :+1::skin-tone-2:", ":tada: :+1::skin-tone-2:"},
		{"fence tildes", "~~~\ncode?\n~~~", "\\~\\~\\~\ncode?\n\\~\\~\\~"},
		{"unicode", "*réunion* 会议 _明天_", "**réunion** 会议 *明天*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := testConverter().markdown(tc.in); got != tc.want {
				t.Errorf("markdown(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEmojiName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"tada": "tada", "+1::skin-tone-2": "+1", "white_check_mark": "white_check_mark",
		"flag-fr": "flag-fr", "café": "caf_", "": "", "::": "", strings.Repeat("a", 80): strings.Repeat("a", 64),
	} {
		if got := emojiName(in); got != want {
			t.Errorf("emojiName(%q) = %q, want %q", in, got, want)
		}
	}
}

// liveMention finds a mention Mattermost would act on: @channel, @all or
// @here outside code, not preceded by a word character.
var liveMention = regexp.MustCompile("(^|[^\\w`@])@(channel|all|here)\\b")

// inert checks what Markdown made of hostile text: no HTML, no link or
// image that the Slack text did not make, no channel-wide mention.
func inert(t *testing.T, in, out string) {
	t.Helper()
	text := stripCode(out)
	if m := regexp.MustCompile(`<[a-zA-Z/!?]`).FindString(text); m != "" {
		t.Errorf("markdown(%q) = %q: raw HTML %q", in, out, m)
	}
	if m := liveMention.FindString(text); m != "" {
		t.Errorf("markdown(%q) = %q: a live mention %q", in, out, m)
	}
	if regexp.MustCompile(`(^|[^\\])\]\(`).MatchString(text) && !strings.Contains(in, "<http") {
		t.Errorf("markdown(%q) = %q: a link the Slack text did not make", in, out)
	}
	for _, line := range strings.Split(text, "\n") {
		if regexp.MustCompile(`^(#|[-+*] |\d+[.)] |=+$|\|)`).MatchString(line) {
			t.Errorf("markdown(%q) = %q: line %q starts a block", in, out, line)
		}
	}
}

// stripCode drops code spans and blocks, where nothing is live.
func stripCode(s string) string {
	s = regexp.MustCompile("(?s)```.*?```").ReplaceAllString(s, "code")
	return regexp.MustCompile("`[^`\n]*`").ReplaceAllString(s, "code")
}

func TestMarkdownHostile(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"&lt;img src=x onerror=alert(1)&gt;",
		"&lt;script&gt;document.cookie&lt;/script&gt;",
		"@channel @all @here look",
		"<!channel> <!here> <!everyone>",
		"<@channel> <@here>",
		"[free money](https://evil.example)",
		"![](https://tracker.example/pixel.gif)",
		"<javascript:alert(1)|innocent link>",
		"<data:text/html;base64,PHNjcmlwdD4=|x>",
		"# HEADLINE\n===\n---\n* * *",
		"| a | b |\n| --- | --- |",
		"```\n```\n<!channel>",
		"*unclosed bold <https://x.org|* still text",
		"\\<b\\>escaped\\</b\\>",
		"&amp;lt;script&amp;gt;",
		"[x]: https://evil.example\n[x]",
		"<https://ok.example|[nested](https://evil.example)>",
	} {
		out := testConverter().markdown(in)
		inert(t, in, out)
		if !utf8.ValidString(out) {
			t.Errorf("markdown(%q) = %q: not UTF-8", in, out)
		}
	}
}

func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"*a* _b_ ~c~ `d` ```e```", "&gt; q\n&gt;&gt;&gt; all", "<@U1> <#C1|x> <!here> <https://x|y>", "# [x](y) | @channel"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) || strings.Contains(in, "```") {
			return // code blocks keep their text, hostile or not
		}
		// Slack escapes & < > in text; what it sends has no raw < but its own tokens.
		in = strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(in)
		out := testConverter().markdown(in)
		if !utf8.ValidString(out) {
			t.Fatalf("markdown(%q) = %q: not UTF-8", in, out)
		}
		inert(t, in, out)
	})
}
