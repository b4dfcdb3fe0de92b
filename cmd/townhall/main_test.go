package main

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func httptestRecorder(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// These tests set process environment variables (envconfig reads the
// process environment), so they do not run in parallel.

func TestCheckPrintsRedactedConfig(t *testing.T) {
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-A1-123-supersecretapp")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-123-supersecretbot")
	t.Setenv("TOWNHALL_CALLS_PROVIDER", "jitsi")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"check"}, nil, &out, &out); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	got := out.String()
	if strings.Contains(got, "supersecret") {
		t.Errorf("check printed a token:\n%s", got)
	}
	for _, want := range []string{"SLACK_APP_TOKEN=[redacted]", "TOWNHALL_CALLS_PROVIDER=jitsi", "TOWNHALL_TIMEZONE=UTC", "configuration OK"} {
		if !strings.Contains(got, want) {
			t.Errorf("check output lacks %q:\n%s", want, got)
		}
	}
}

// TestCheckRedactsEverySecret: a configuration full of credentials, in
// every place a URL can carry one, prints none of them.
func TestCheckRedactsEverySecret(t *testing.T) {
	env := map[string]string{
		"SLACK_APP_TOKEN":                   "xapp-1-A1-123-s3cret01",
		"SLACK_BOT_TOKEN":                   "xoxb-123-s3cret02",
		"SLACK_API_URL":                     "https://s3cret03:s3cret04@slack.example.org/api/?token=s3cret05",
		"TOWNHALL_CALENDAR_ENABLED":         "true",
		"TOWNHALL_CALENDAR_GOOGLE_API_KEY":  "s3cret06",
		"TOWNHALL_CALENDAR_SOURCES":         "ics:https://calendar.google.com/calendar/ical/team%40example.org/private-s3cret07/basic.ics=#general; ics:webcal://s3cret08:s3cret09@cal.example.org/s3cret10.ics?key=s3cret11=C0123ABCD,#events",
		"TOWNHALL_FEEDS_ENABLED":            "true",
		"TOWNHALL_FEEDS_SOURCES":            "https://s3cret12:s3cret13@blog.example.org/feed.xml?apikey=s3cret14 -> #news\nhttps://news.example.org/rss?s3cret15->#general",
		"TOWNHALL_TRANSLATE_ENABLED":        "true",
		"TOWNHALL_TRANSLATE_PROVIDER":       "libretranslate",
		"TOWNHALL_TRANSLATE_LIBRE_URL":      "https://s3cret16:s3cret17@libre.example.org/?api_key=s3cret18",
		"TOWNHALL_TRANSLATE_LIBRE_KEY":      "s3cret19",
		"TOWNHALL_TRANSLATE_DEEPL_KEY":      "s3cret20",
		"TOWNHALL_TRANSLATE_GOOGLE_API_KEY": "s3cret21",
		"TOWNHALL_CALLS_ZOOM_CLIENT_SECRET": "s3cret22",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	err := run(t.Context(), []string{"check"}, nil, &out, &out)
	got := out.String()
	if err != nil {
		got += "\n" + err.Error()
	}
	if strings.Contains(got, "s3cret") {
		for _, line := range strings.Split(got, "\n") {
			if strings.Contains(line, "s3cret") {
				t.Errorf("check shows a secret: %s", line)
			}
		}
	}
	for _, want := range []string{
		"SLACK_API_URL=https://[redacted]@slack.example.org/api/?token=[redacted]",
		"TOWNHALL_CALENDAR_SOURCES=ics:https://calendar.google.com/…=#general; ics:webcal://cal.example.org/…=C0123ABCD,#events",
		"TOWNHALL_FEEDS_SOURCES=https://[redacted]@blog.example.org/feed.xml?apikey=[redacted] -> #news\nhttps://news.example.org/rss?[redacted]->#general",
		"TOWNHALL_TRANSLATE_LIBRE_URL=https://[redacted]@libre.example.org/?api_key=[redacted]",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("check output lacks %q:\n%s", want, got)
		}
	}
}

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"no tokens", nil, []string{"SLACK_APP_TOKEN: not set", "SLACK_BOT_TOKEN: not set"}},
		{"bad bool", map[string]string{"TOWNHALL_CALLS_ENABLED": "yes please"}, []string{`TOWNHALL_CALLS_ENABLED: "yes please" is not a boolean (use true or false)`}},
		{"bad int", map[string]string{"TOWNHALL_MAX_CONCURRENT_HANDLERS": "many"}, []string{`TOWNHALL_MAX_CONCURRENT_HANDLERS: "many" is not a whole number (such as 10)`}},
		{"token in a duration", map[string]string{"TOWNHALL_SHUTDOWN_TIMEOUT": "xoxb-1234567890-secret-secret-secret-secret"}, []string{"TOWNHALL_SHUTDOWN_TIMEOUT: the value (43 characters) is not a duration"}},
		{"bot token with a newline", map[string]string{"SLACK_BOT_TOKEN": "xoxb-secret\n"}, []string{"SLACK_BOT_TOKEN: contains a space, line break or control character"}},
		{"app token with a space", map[string]string{"SLACK_APP_TOKEN": "xapp-1-secret more"}, []string{"SLACK_APP_TOKEN: contains"}},
		{"bad zone", map[string]string{"TOWNHALL_TIMEZONE": "Mars/Olympus"}, []string{"TOWNHALL_TIMEZONE"}},
		{"bad provider", map[string]string{"TOWNHALL_CALLS_PROVIDER": "skype"}, []string{"TOWNHALL_CALLS_PROVIDER"}},
		{"zoom without credentials", map[string]string{"TOWNHALL_CALLS_PROVIDER": "zoom"}, []string{"TOWNHALL_CALLS_ZOOM_ACCOUNT_ID"}},
		{"bad duration", map[string]string{"TOWNHALL_HANDLER_TIMEOUT": "soon"}, []string{`TOWNHALL_HANDLER_TIMEOUT: "soon" is not a duration (use a number and a unit, such as 90s, 5m or 1h30m)`}},
		{"bad log format", map[string]string{"TOWNHALL_LOG_FORMAT": "xml"}, []string{"TOWNHALL_LOG_FORMAT"}},
		{"alerts too eager", map[string]string{"TOWNHALL_ALERT_AFTER": "5s"}, []string{"TOWNHALL_ALERT_AFTER: must be 0 (no alerts) or at least 1m, got 5s"}},
		{"staff channel a name without #", map[string]string{"TOWNHALL_STAFF_CHANNEL": "staff"}, []string{`TOWNHALL_STAFF_CHANNEL: "staff" is neither #name nor a channel ID`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SLACK_APP_TOKEN", "")
			t.Setenv("SLACK_BOT_TOKEN", "")
			if tc.env != nil {
				t.Setenv("SLACK_APP_TOKEN", "xapp-1-secret")
				t.Setenv("SLACK_BOT_TOKEN", "xoxb-secret")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			err := run(t.Context(), []string{"run"}, nil, &out, &out)
			var u errUsage
			if !errors.As(err, &u) {
				t.Fatalf("want a configuration error (exit 2), got %v", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "SLACK_") && !strings.HasPrefix(line, "TOWNHALL_") {
					t.Errorf("error line does not start with the variable: %q", line)
				}
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "goroutine") {
				t.Errorf("error leaks a token or a stack: %q", err)
			}
		})
	}
}

func TestCheckRefusesGoogleTranslationWithoutCredentials(t *testing.T) {
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-A1-123-app")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-123-bot")
	t.Setenv("TOWNHALL_TRANSLATE_ENABLED", "true")
	t.Setenv("TOWNHALL_TRANSLATE_PROVIDER", "google")
	t.Setenv("TOWNHALL_TRANSLATE_GOOGLE_API_KEY", "")
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", t.TempDir()) // no gcloud credentials file
	var out bytes.Buffer
	err := run(t.Context(), []string{"check"}, nil, &out, &out)
	var u errUsage
	if !errors.As(err, &u) {
		t.Fatalf("want a configuration error (exit 2), got %v\n%s", err, out.String())
	}
	want := "TOWNHALL_TRANSLATE_GOOGLE_API_KEY: not set, and no Google Application Default Credentials were found"
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("want one line starting %q, got %q", want, err)
	}
	if strings.Contains(out.String(), "configuration OK") {
		t.Errorf("check said OK:\n%s", out.String())
	}

	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "missing.json"))
	err = run(t.Context(), []string{"check"}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "GOOGLE_APPLICATION_CREDENTIALS=") {
		t.Errorf("want the credentials file named, got %v", err)
	}
}

func TestUnknownSubcommand(t *testing.T) {
	err := run(t.Context(), []string{"frobnicate"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	var u errUsage
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "usage: townhall") {
		t.Fatalf("want usage, got %v", err)
	}
}

// TestShellPiped is the newcomer's first command, scripted.
func TestShellPiped(t *testing.T) {
	var out, errOut bytes.Buffer
	in := strings.NewReader("/call budget review\n/townhall help\n!jobs\n/events week\n!run feeds.rss\n")
	if err := run(t.Context(), []string{"shell"}, in, &out, &errOut); err != nil {
		t.Fatalf("shell: %v\nstderr:\n%s", err, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"> /call budget review\n#general (in channel)", "started a call: *budget review*", "[Join] https://meet.jit.si/budget-review", "/call [topic]",
		"calendar.reminders", "Maintainers' stand-up", "Call for volunteers: translation working group"} {
		if !strings.Contains(got, want) {
			t.Errorf("shell output lacks %q:\n%s", want, got)
		}
	}
}

// TestREADMEListsEveryVariable keeps the README's configuration table
// honest: every variable the code reads must be documented.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var c config
	for _, s := range c.sections() {
		typ := reflect.TypeOf(s.spec).Elem()
		for i := range typ.NumField() {
			name := typ.Field(i).Tag.Get("envconfig")
			if name == "" {
				continue
			}
			if s.prefix != "" {
				name = s.prefix + "_" + name
			}
			if !bytes.Contains(readme, []byte("| `"+name+"` |")) {
				t.Errorf("README.md's configuration table lacks %s", name)
			}
		}
	}
}

// TestImportDirection enforces DESIGN.md's doors: slackapp, scheduler and
// store never import an integration or cmd; an integration never imports
// another integration.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	const mod = "github.com/townhall/townhall/"
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, mod) {
				continue
			}
			target := strings.TrimPrefix(p, mod)
			for _, runtime := range []string{"slackapp/", "scheduler/", "store/"} {
				if strings.HasPrefix(rel, runtime) && (strings.HasPrefix(target, "integrations") || strings.HasPrefix(target, "cmd")) {
					t.Errorf("%s imports %s: the runtime must never depend on integrations", rel, p)
				}
			}
			if in := integrationOf(rel); in != "" {
				if other := integrationOf(target + "/"); other != "" && other != in {
					t.Errorf("%s imports %s: integrations never import one another", rel, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// integrationOf returns "calls" for "integrations/calls/zoom/x.go".
func integrationOf(rel string) string {
	rest, ok := strings.CutPrefix(rel, "integrations/")
	if !ok {
		return ""
	}
	name, _, found := strings.Cut(rest, "/")
	if !found || name == "integrationtest" {
		return "" // the integrations package itself, or the shared test harness
	}
	return name
}
