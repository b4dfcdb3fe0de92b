package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestSkip(t *testing.T) {
	t.Parallel()
	i := &Integration{cfg: Config{MaxCharacters: 100, ChannelMinWords: 3}}
	tests := []struct {
		m    autoMessage
		want string
	}{
		{autoMessage{text: "Hello everyone, see you tomorrow"}, ""},
		{autoMessage{text: "ok thanks"}, "short"},
		{autoMessage{text: "merci beaucoup !"}, "short"},
		{autoMessage{text: "谢谢"}, "short"},
		{autoMessage{text: "明天的会议改到下午三点"}, ""},
		{autoMessage{text: "شكرا جزيلا لكم جميعا"}, ""},
		{autoMessage{text: "```\nmake test\nmake lint\n```"}, "short"},
		{autoMessage{text: "`a` `b` `c` `d`"}, "short"},
		{autoMessage{text: "https://example.org/one https://example.org/two"}, "short"},
		{autoMessage{text: "<https://example.org|a link with a long label> :tada:"}, "short"},
		{autoMessage{text: "<@U0ADMIN> <@U0MEMBER> <!here> :wave: :wave:"}, "short"},
		{autoMessage{text: "Hello everyone from the bot", botID: "B0OTHER"}, "bot"},
		{autoMessage{text: "Hello everyone from the bot", subtype: "bot_message"}, "bot"},
		{autoMessage{text: "<@U0MEMBER> has joined the channel", subtype: "channel_join"}, "subtype"},
		{autoMessage{text: "Hello everyone, broadcast from the thread", subtype: "thread_broadcast"}, ""},
		{autoMessage{text: "   "}, "empty"},
		{autoMessage{text: strings.Repeat("word ", 30)}, "too long"},
	}
	for _, tt := range tests {
		if got := i.skip(tt.m); got != tt.want {
			t.Errorf("skip(%q, %q) = %q, want %q", tt.m.text, tt.m.subtype, got, tt.want)
		}
	}
}

func TestCannotBe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, lang string
		want       bool
	}{
		{"Hello everyone", "ar", true},
		{"Hello everyone", "zh", true},
		{"Hello everyone", "fr", false},
		{"Всем привет", "ru", false},
		{"Всем привет", "uk", false},
		{"Всем привет", "en", true},
		{"大家好", "ja", false},
		{"大家好", "zh-TW", false},
		{"大家好 hello", "ar", true},
		{"大家好 at the office", "zh", false},                             // more than one letter in ten is Han
		{"Meeting with 大家 at the office tomorrow morning", "zh", true}, // fewer
		{"12:30 — 🎉", "ar", false},                                     // no letters: cannot say
	}
	for _, tt := range tests {
		if got := cannotBe(tt.text, tt.lang); got != tt.want {
			t.Errorf("cannotBe(%q, %s) = %v", tt.text, tt.lang, got)
		}
	}
}

func TestSample(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("palabra ", 60)
	s := sample(long)
	if n := utf8.RuneCountInString(s); n > detectSample || n < detectSample/2 || strings.HasSuffix(s, " ") || !strings.HasPrefix(long, s) {
		t.Errorf("sample = %q (%d)", s, n)
	}
	if s := sample("  short\n text "); s != "short text" {
		t.Errorf("sample = %q", s)
	}
	if p := prepare("Run `make` then see <https://example.org|the docs> <@U0ADMIN>\n```x```"); strings.Join(strings.Fields(p.prose()), " ") != "Run then see" {
		t.Errorf("prose = %q", p.prose())
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]string{"fr": "🇫🇷", "es": "🇪🇸", "ar": "🇸🇦", "zh": "🇨🇳", "zh-TW": "🇹🇼", "ru": "🇷🇺", "en": "🇬🇧", "pt-BR": "🇧🇷"} {
		if got := flagOf(code); got != want {
			t.Errorf("flagOf(%s) = %s, want %s", code, got, want)
		}
	}
	for _, l := range languages {
		if f := flagOf(l.Code); utf8.RuneCountInString(f) != 2 {
			t.Errorf("flagOf(%s) = %q", l.Code, f)
		}
	}
}

// The reply's Block Kit, checked against a golden file: a section per
// language headed by flag and name, a failed language said so, a context
// line naming source and provider. Its text is escaped: the translations
// arrive escaped from restore, and a broadcast is quietened.
func TestAutoReplyGolden(t *testing.T) {
	t.Parallel()
	es, _ := LookupLanguage("es")
	ar, _ := LookupLanguage("ar")
	zh, _ := LookupLanguage("zh")
	m := autoReply(autoResult{source: "en", lines: []autoLine{
		{lang: es, text: quietMentions("<!channel> Hola a todos: la reunión es el jueves &lt;3 <https://example.org|la agenda>")},
		{lang: ar, text: "مرحبا بالجميع: الاجتماع يوم الخميس"},
		{lang: zh, fail: failUnavailable},
	}}, "DeepL")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "auto_reply.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("reply differs from %s (run with -update to accept):\n%s", path, got)
	}
	if strings.Contains(string(got), "<!channel") {
		t.Error("the reply broadcasts")
	}
}

func FuzzParseChannels(f *testing.F) {
	for _, s := range []string{"#general=es,fr;#annonces=en,ar", "C0123ABCD=zh", "#a=x;;#b", "=", "#général=français"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		chans, err := parseChannels(s)
		if err != nil {
			return
		}
		for _, c := range chans {
			if (c.id == "") == (c.name == "") || len(c.languages) == 0 || len(c.languages) > maxChannelLanguages {
				t.Fatalf("parseChannels(%q) = %+v", s, c)
			}
			for _, l := range c.languages {
				if _, ok := LookupLanguage(l); !ok {
					t.Fatalf("parseChannels(%q) gave unknown language %q", s, l)
				}
			}
		}
	})
}
