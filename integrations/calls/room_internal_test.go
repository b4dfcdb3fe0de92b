package calls

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

func TestSlug(t *testing.T) {
	t.Parallel()
	tests := []struct {
		topic, want string
	}{
		{"", ""},
		{"Budget review", "budget-review"},
		{"  Q3 -- OKRs!!  ", "q3-okrs"},
		{"Révision du budget (été 2026)", "revision-du-budget-ete-2026"},
		{"Reunión de presupuesto: año fiscal", "reunion-de-presupuesto-ano-fiscal"},
		{"l'équipe & don’t panic", "lequipe-dont-panic"},
		{"Straße Œuvre Łódź Șase", "strasse-oeuvre-lodz-sase"},
		{"Обзор бюджета", "obzor-byudzheta"},
		{"Щедрый вечер", "shchedryy-vecher"},
		{"مراجعة الميزانية", ""},
		{"预算审查", ""},
		{"预算 review 2026", "review-2026"},
		{"📞🎉", ""},
		{"CamelCaseTopic", "camelcasetopic"},
		{"a very long topic that goes on and on past the limit of the slug", "a-very-long-topic-that-goes-on-and-on"},
		{strings.Repeat("x", 100), strings.Repeat("x", maxSlug)},
		{"exactly-forty-characters-long-slug-abcde", "exactly-forty-characters-long-slug-abcde"},
		{"\xff\xfe bad utf8", "bad-utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			t.Parallel()
			if got := slug(tt.topic); got != tt.want {
				t.Errorf("slug(%q) = %q, want %q", tt.topic, got, tt.want)
			}
		})
	}
}

func TestTransliterationIsASCII(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z]*$`)
	for r, s := range transliteration {
		if !valid.MatchString(s) {
			t.Errorf("transliteration[%q] = %q, want lowercase ASCII letters", r, s)
		}
	}
}

var slugShape = regexp.MustCompile(`^([a-z0-9]+(-[a-z0-9]+)*)?$`)

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"", "Budget review", "Обзор бюджета", "预算 review", "a--b", "-", "l'été", strings.Repeat("ab ", 30), "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		s := slug(topic)
		if len(s) > maxSlug {
			t.Errorf("slug(%q) = %q is %d bytes, over %d", topic, s, len(s), maxSlug)
		}
		if !slugShape.MatchString(s) {
			t.Errorf("slug(%q) = %q is not hyphen-joined lowercase ASCII words", topic, s)
		}
		if again := slug(topic); again != s {
			t.Errorf("slug(%q) is not deterministic: %q then %q", topic, s, again)
		}
		if len(s) < maxSlug/2 {
			// A short slug keeps every ASCII letter and digit of the
			// topic, in order (transliterations may fall between them).
			var kept strings.Builder
			for _, r := range topic {
				r = unicode.ToLower(r)
				if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
					kept.WriteRune(r)
				}
			}
			if !isSubsequence(kept.String(), s) {
				t.Errorf("slug(%q) = %q lost letters of %q", topic, s, kept.String())
			}
		}
		name, err := roomName(bytes.NewReader(make([]byte, roomRandomBytes)), topic)
		if err != nil {
			t.Fatal(err)
		}
		u := roomURL(&url.URL{Scheme: "https", Host: "meet.jit.si"}, name)
		if p, err := url.Parse(u); err != nil || p.Path != "/"+name {
			t.Errorf("room URL %q does not round-trip to path /%s: %v", u, name, err)
		}
	})
}

// isSubsequence reports whether the bytes of sub appear in s in order.
func isSubsequence(sub, s string) bool {
	for i := 0; i < len(sub); i++ {
		j := strings.IndexByte(s, sub[i])
		if j < 0 {
			return false
		}
		s = s[j+1:]
	}
	return true
}

func TestTopicFromCommand(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"  budget   review \n", "budget review"},
		{"a &amp;lt; b", "a &lt; b"},
		{"&lt;b&gt;", "<b>"},
		{"<https://example.com>", "https://example.com"},
		{"<https://example.com|example>", "example"},
		{"<mailto:a@b.c|a@b.c>", "a@b.c"},
		{"<@U1>", "@U1"},
		{"<@U1|ann>", "@ann"},
		{"<#C1|general>", "#general"},
		{"<!here>", "@here"},
		{"<!subteam^S1>", "@subteam"},
		{"<!date^1392734382^{date}|Feb 18>", "Feb 18"},
		{"x\u200fy\u2066z", "xyz"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := topicFromCommand(tt.in); got != tt.want {
				t.Errorf("topicFromCommand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
