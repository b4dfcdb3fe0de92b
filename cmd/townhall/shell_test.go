package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/translate/libretest"
)

// These tests set process environment variables (the shell reads the
// environment), so they do not run in parallel.

// runShell types input into `townhall shell` and returns what it printed.
func runShell(t *testing.T, input string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"shell"}, strings.NewReader(input), &out, &errOut); err != nil {
		t.Fatalf("shell: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	return out.String()
}

func wantLines(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("shell output lacks %q:\n%s", w, got)
		}
	}
}

func TestShellRunSaysWhatTheJobDid(t *testing.T) {
	got := runShell(t, "!run calendar.reminders\n!run feeds.rss\n!run nosuch\n")
	wantLines(t, got,
		"> !run calendar.reminders\n(ran calendar.reminders: it posted nothing)\n",
		"Call for volunteers: translation working group",
		"(ran feeds.rss: it posted 1 message)",
		"! scheduler: run \"nosuch\": no such job",
	)
}

func TestShellMessagesAreArchivedAndShortcutsActOnThem(t *testing.T) {
	got := runShell(t, strings.Join([]string{
		"hello everyone",
		"@townhall help",
		"/townhall archive status",
		"!shortcut",
		"!shortcut archive_remove",
		"/townhall archive status",
		"!in random",
		"nobody hears this",
		"!bogus",
	}, "\n")+"\n")
	wantLines(t, got,
		"#general, thread ", // the mention is answered in its thread
		"What townhall can do here",
		"1 channel, 2 messages, 1 person",
		"1  archive_remove",
		"Removed from the archive",
		"1 channel, 1 message, 1 person (0 opted out), 1 message removed on request",
		"(townhall is not in #random, so it did not see that)",
		"! !bogus is not a shell command; !help lists them",
	)
}

func TestShellPressesButtons(t *testing.T) {
	got := runShell(t, strings.Join([]string{
		"!press 1", "/events 30", "!press 12", "!press 11", // More
		"/events 30", "!press 1", "!press 1", "!press 4", "/events mine", // RSVP
		"/call standup", "!press 1",
	}, "\n")+"\n")
	// How many events the example calendar holds in the next 30 days
	// depends on today's date; the More button counts what the first page
	// left out, whatever that is.
	m := regexp.MustCompile(`(\d+) events in the next 30 days \(to `).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("shell output lacks the /events heading:\n%s", got)
	}
	total, _ := strconv.Atoi(m[1])
	// The first event of the list, whichever it is today, gets the answer.
	first := regexp.MustCompile(`Noted: ✅ Going for \*([^*]+)\* \(`).FindStringSubmatch(got)
	if first == nil {
		t.Fatalf("the RSVP was not noted:\n%s", got)
	}
	if !regexp.MustCompile(`\*Your answers\* \(1 coming event\)\n✅ [^\n]*\*` + regexp.QuoteMeta(first[1]) + `\*[^\n]* · Going\n`).MatchString(got) {
		t.Errorf("/events mine does not list %q as Going:\n%s", first[1], got)
	}
	wantLines(t, got,
		"🗓 *"+first[1]+"*",
		"*Who's coming* to *"+first[1]+"*",
		"! no button to press: none of the messages shown has one",
		"(!press 1 for [RSVP], !press 2 for [RSVP],",
		fmt.Sprintf("!press 11 for [More (%d)])", total-10),
		"! usage: !press <n>, n from 1 to 11",
		") (11–20)*",
		"(!press 1 for [✅ Going], !press 2 for [🤔 Maybe], !press 3 for [❌ Can't], !press 4 for [Who's coming?])",
		"✅ 1 going · 🤔 0 maybe · ❌ 0 can't",
		"✅ Going (1): @admin",
		"*Your answers* (1 coming event)\n✅ ",
		"(!press 1 for [Join])",
		"(in Slack, [Join] would also open https://meet.jit.si/standup-",
	)
}

// TestShellTranslation tries the translation buttons as a newcomer would:
// a message in French, the Translate message shortcut, and its Post button.
func TestShellTranslation(t *testing.T) {
	libre := libretest.New(t)
	t.Setenv("TOWNHALL_TRANSLATE_ENABLED", "true")
	t.Setenv("TOWNHALL_TRANSLATE_PROVIDER", "libretranslate")
	t.Setenv("TOWNHALL_TRANSLATE_LIBRE_URL", libre.URL)
	got := runShell(t, "Bonjour à tous\n!shortcut translate_message\n!press 1\n!react es\n")
	wantLines(t, got,
		"#general (only visible to @admin)",
		"Hello everyone",
		"(!press 1 for [Post in thread])",
	)
	_, after, _ := strings.Cut(got, "> !press 1\n")
	if !strings.Contains(after, "(in channel)") || !strings.Contains(after, "@admin (translated from French)\nHello everyone") {
		t.Errorf("the Post button did not post the translation in the thread:\n%s", after)
	}
	_, reacted, _ := strings.Cut(got, "> !react es\n")
	if !strings.Contains(reacted, "translation (from French, by LibreTranslate), for :es:") {
		t.Errorf("a flag reaction was not answered with a translation:\n%s", reacted)
	}
}

func TestShellExplainsMissingTranslationCredentials(t *testing.T) {
	t.Setenv("TOWNHALL_TRANSLATE_ENABLED", "true")
	t.Setenv("TOWNHALL_TRANSLATE_PROVIDER", "google")
	t.Setenv("TOWNHALL_TRANSLATE_GOOGLE_API_KEY", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir()) // no gcloud credentials file
	var out bytes.Buffer
	err := run(t.Context(), []string{"shell"}, strings.NewReader(""), &out, &out)
	var u errUsage
	if !errors.As(err, &u) {
		t.Fatalf("want a configuration error (exit 2), got %v", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "translate: translate:") {
		t.Errorf("the prefix is doubled: %q", msg)
	}
	for _, want := range []string{
		"TOWNHALL_TRANSLATE_GOOGLE_API_KEY: not set, and no Google Application Default Credentials were found",
		"TOWNHALL_TRANSLATE_DEEPL_KEY=", "TOWNHALL_TRANSLATE_LIBRE_URL=", "leave TOWNHALL_TRANSLATE_ENABLED unset",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

// TestShellStopsAtInterrupt: Ctrl-C cancels run's context; the shell must
// leave at once, not at the next Enter.
func TestShellStopsAtInterrupt(t *testing.T) {
	in, typing := io.Pipe()
	t.Cleanup(func() { typing.Close() })
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() { done <- run(ctx, []string{"shell"}, in, &out, &errOut) }()

	// A write to the pipe returns once the shell has read it: the shell is
	// up and waiting for the next line.
	if _, err := io.WriteString(typing, "!help\n"); err != nil {
		t.Fatal(err)
	}
	interrupt()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shell after Ctrl-C: %v\n%s", err, errOut.String())
		}
	case <-time.After(20 * time.Second): // a hang, not a timing: the shell waits for input that never comes
		t.Fatal("the shell did not stop at Ctrl-C: it waits for another line")
	}
}

// TestShellDigest: the shell's archive feeds a digest anyone can preview.
func TestShellDigest(t *testing.T) {
	got := runShell(t, "hello everyone\nthe meeting is on friday\n/townhall digest\n")
	wantLines(t, got, "Preview: only you can see this.", "This week in #general", "2 messages from 1 person")
}
