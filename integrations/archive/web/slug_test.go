package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestSlug checks the slugs of titles in several scripts: Latin folded to
// ASCII, Arabic, Russian and Chinese kept in their own script (and
// percent-encoded in links), a title of no words giving no slug.
func TestSlug(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ title, slug, path string }{
		{"The *réunion* is on Friday, @Bob Quiet", "the-reunion-is-on-friday-bob-quiet", ""},
		{"Straße: Ærø, Łódź & Øresund!", "strasse-aero-lodz-oresund", ""},
		{"Don't panic — it's fine", "dont-panic-its-fine", ""},
		{"اجتماع اللجنة غداً", "اجتماع-اللجنة-غدا", "%D8%A7%D8%AC%D8%AA%D9%85%D8%A7%D8%B9-%D8%A7%D9%84%D9%84%D8%AC%D9%86%D8%A9-%D8%BA%D8%AF%D8%A7"},
		{"Собрание в пятницу", "собрание-в-пятницу", "%D1%81%D0%BE%D0%B1%D1%80%D0%B0%D0%BD%D0%B8%D0%B5-%D0%B2-%D0%BF%D1%8F%D1%82%D0%BD%D0%B8%D1%86%D1%83"},
		{"明天下午会议，在图书馆", "明天下午会议-在图书馆", ""},
		{"会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议会议", strings.Repeat("会议", 10), ""},
		{"🎉🎉🎉", "", ""},
		{"", "", ""},
		{"Version 2.0 of the plan", "version-2-0-of-the-plan", ""},
		{strings.Repeat("word ", 30), strings.TrimSuffix(strings.Repeat("word-", 12), "-"), ""},
	} {
		got := slugOf(tt.title)
		if got != tt.slug {
			t.Errorf("slugOf(%q) = %q, want %q", tt.title, got, tt.slug)
		}
		if len(got) > maxSlug {
			t.Errorf("slugOf(%q) is %d bytes, more than %d", tt.title, len(got), maxSlug)
		}
		if tt.path != "" && url.PathEscape(got) != tt.path {
			t.Errorf("the slug of %q in a path: %s, want %s", tt.title, url.PathEscape(got), tt.path)
		}
	}
	if got := slugOf("Собрание в пятницу"); strings.ToLower(got) != got {
		t.Errorf("a Russian slug is not lower case: %q", got)
	}
}

func TestTitleOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ plain, want string }{
		{"The *réunion* is on _Friday_ :tada:\nsecond line", "The réunion is on Friday 🎉"},
		{"\n\n> quoted `code` here", "quoted code here"},
		{strings.Repeat("abcdefghi ", 20), strings.TrimSpace(strings.Repeat("abcdefghi ", 10)) + "…"},
		{"   ", ""},
	} {
		if got := titleOf(tt.plain); got != tt.want {
			t.Errorf("titleOf(%q) = %q, want %q", tt.plain, got, tt.want)
		}
	}
}
