package translate

import (
	"strings"
	"testing"

	"github.com/townhall/townhall/integrations/translate/internal/fakemt"
)

// messages are real-looking Slack messages, as the Events API delivers
// their text, in the community's six languages.
var messages = []string{
	"Hello everyone",
	"Hi <@U0123ABCD>, the meeting moved to <#C0GENERAL|general> :tada:",
	"<!here> the agenda is at <https://example.org/agenda?x=1&amp;y=2|this page>, please read it before Tuesday.",
	"Run `make test` first.\nThen:\n```go test ./...\nok```\nThanks!",
	"&gt; quoted line\nreply under it",
	"Tom &amp; Jerry &lt;3 — see https://example.org/a_b and <mailto:ana@example.org|Ana>",
	"Bonjour à tous :wave::skin-tone-3: la réunion est demain à 10:30.\nMerci <@U0FR>!",
	"Hola a todos, ¿alguien puede revisar <https://github.com/townhall/townhall/pull/42|el PR>? :pray:",
	"مرحبا بالجميع <@U0AR> الاجتماع غدا في <#C0AR|عام> :calendar:\nشكرا!",
	"大家好！明天的会议在<#C0ZH|综合>。请看<https://example.cn/会议|议程>。谢谢 <@U0ZH> :smile:",
	"Всем привет! <!channel> встреча завтра в 10:00, ссылка: <https://meet.example.org/room>",
	"<!subteam^S0123|@volunteers> please check `config.yaml` — <!date^1700000000^{date_short}|Nov 14>",
	"line one\n\nline three after a blank line\n• bullet one\n• bullet two",
}

func TestRestoreIdentity(t *testing.T) {
	t.Parallel()
	for _, m := range messages {
		p := prepare(m)
		if got := restore(p.html(), p.items); got != m {
			t.Errorf("round trip without translation:\n got %q\nwant %q\nhtml %s", got, m, p.html())
		}
	}
}

func TestMarkupSurvivesTranslation(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"fr", "es", "ar", "zh", "ru", "en"} {
		for _, m := range messages {
			p := prepare(m)
			got := restore(fakemt.HTML(p.html(), target, nil), p.items)
			for _, it := range p.items {
				want := it.markup
				if it.link {
					want = "<" + it.markup + "|"
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s: %q lost %q: %q", target, m, want, got)
				}
			}
			if strings.Count(got, "\n") != strings.Count(m, "\n") {
				t.Errorf("%s: line breaks changed: %q → %q", target, m, got)
			}
		}
	}
}

func TestRestoreEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, html, want string }{
		{"broadcast", "Attention @channel and @here", "Attention @\u2060channel and @\u2060here"},
		{"forged link", "&lt;https://evil|click&gt; &lt;!channel&gt;", "&lt;https://evil|click&gt; &lt;!channel&gt;"},
		{"entities", "Tom &amp; Jerry &#39;quoted&#39;", "Tom &amp; Jerry 'quoted'"},
		{"lost span", "no span here", "no span here <@U1>"},
		{"moved span and extra tags", `<p style="direction:rtl">شكرا <span id="0" translate="no">x</span></p>`, "شكرا <@U1>"},
		{"self-closing br", "a<br/>b <br /> c", "a\nb\nc"},
	}
	for _, tt := range tests {
		var items []protected
		if strings.Contains(tt.name, "span") {
			items = []protected{{markup: "<@U1>"}}
		}
		if got := restore(tt.html, items); got != tt.want {
			t.Errorf("%s: restore(%q) = %q, want %q", tt.name, tt.html, got, tt.want)
		}
	}
}

func TestLinkLabelTranslatedURLNot(t *testing.T) {
	t.Parallel()
	p := prepare("<https://example.org/agenda|the agenda>")
	if strings.Contains(p.html(), "example.org") {
		t.Errorf("the URL was sent: %s", p.html())
	}
	got := restore(fakemt.HTML(p.html(), "fr", nil), p.items)
	if got != "<https://example.org/agenda|[fr] the agenda>" {
		t.Errorf("got %q", got)
	}
}

func TestChunks(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("This is a sentence. ", 50) + "\n" + strings.Repeat("这是一个句子。", 80) + "\n" + strings.Repeat("x", 300)
	for _, max := range []int{40, 100, 333, 1000} {
		p := prepare(long)
		parts := chunks(p.frags, runeCost, max)
		var joined strings.Builder
		for _, part := range parts {
			h := joinHTML(part)
			if runeCost(h) > max {
				t.Errorf("max %d: a part costs %d", max, runeCost(h))
			}
			joined.WriteString(h)
		}
		if joined.String() != p.html() {
			t.Errorf("max %d: parts do not rejoin to the whole", max)
		}
		if max >= 100 {
			for _, part := range parts[:len(parts)-1] {
				if last := part[len(part)-1]; last.cut < cutSpace && !strings.HasPrefix(last.html, "x") {
					t.Errorf("max %d: cut inside a word, after %q", max, last.html)
				}
			}
		}
	}
}

func TestNothingToTranslate(t *testing.T) {
	t.Parallel()
	for _, m := range []string{":tada:", "<@U1> <#C1|x>", "`code`", "https://example.org", "!!! ..."} {
		if p := prepare(m); p.text != 0 {
			t.Errorf("%q has %d characters of text", m, p.text)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, m := range messages {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, m string) {
		m = normalise(m)
		p := prepare(m)
		got := restore(fakemt.HTML(p.html(), "fr", nil), p.items)
		for _, it := range p.items {
			if !it.link && !strings.Contains(got, strings.TrimRight(it.markup, " ")) {
				t.Errorf("%q lost %q: %q", m, it.markup, got)
			}
		}
	})
}
