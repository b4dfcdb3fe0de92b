package slackapp

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	good := Config{AppToken: "xapp-1-A-secret", BotToken: "xoxb-secret", APIURL: "https://slack.com/api/",
		HandlerTimeout: time.Second, ShutdownTimeout: time.Second, MaxConcurrentHandlers: 1}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings; empty: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"missing tokens", func(c *Config) { c.AppToken, c.BotToken = "", "" }, []string{"SLACK_APP_TOKEN: not set", "SLACK_BOT_TOKEN: not set"}},
		{"swapped tokens", func(c *Config) { c.AppToken, c.BotToken = c.BotToken, c.AppToken }, []string{"SLACK_APP_TOKEN: must be", "SLACK_BOT_TOKEN: must be"}},
		{"token with a newline", func(c *Config) { c.BotToken += "\n" }, []string{"SLACK_BOT_TOKEN: contains a space, line break or control character"}},
		{"token with a space", func(c *Config) { c.BotToken = "xoxb-1 secret" }, []string{"SLACK_BOT_TOKEN: contains"}},
		{"token with a tab", func(c *Config) { c.AppToken = "\t" + c.AppToken }, []string{"SLACK_APP_TOKEN: contains"}},
		{"token with a NUL", func(c *Config) { c.AppToken += "\x00" }, []string{"SLACK_APP_TOKEN: contains"}},
		{"token with a non-breaking space", func(c *Config) { c.BotToken = "xoxb-1\u00a0secret" }, []string{"SLACK_BOT_TOKEN: contains"}},
		{"bad url", func(c *Config) { c.APIURL = "slack.com" }, []string{"SLACK_API_URL"}},
		{"bad url with credentials", func(c *Config) { c.APIURL = "ftp://me:secret@slack.example/api/?token=secret" }, []string{"SLACK_API_URL", "ftp://[redacted]@slack.example/api/?token=[redacted]"}},
		{"bad staff", func(c *Config) { c.StaffUsers = []string{"alice"} }, []string{"TOWNHALL_STAFF_USERS"}},
		{"bad numbers", func(c *Config) { c.HandlerTimeout, c.MaxConcurrentHandlers = 0, 0 }, []string{"TOWNHALL_HANDLER_TIMEOUT", "TOWNHALL_MAX_CONCURRENT_HANDLERS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks a token: %q", err)
			}
		})
	}
}

func TestSecretRedacts(t *testing.T) {
	t.Parallel()
	s := Secret("xoxb-very-secret")
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", s)
	for _, got := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %s %#v %q", s, s, s, s), logs.String()} {
		if strings.Contains(got, "very-secret") {
			t.Errorf("secret leaked: %s", got)
		}
	}
	if s.Reveal() != "xoxb-very-secret" {
		t.Error("Reveal must return the value")
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"<!channel> hi":             "&lt;!channel&gt; hi",
		"<https://evil|click> & co": "&lt;https://evil|click&gt; &amp; co",
		"*bold* _it_":               "*bold* _it_",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://slack.com/api/", "https://slack.com/api/"},
		{"https://user:hunter2@feeds.example.org/feed.xml", "https://[redacted]@feeds.example.org/feed.xml"},
		{"https://libre.example.org/translate?api_key=s3cret&format=html", "https://libre.example.org/translate?api_key=[redacted]&format=[redacted]"},
		{"https://example.org/feed?s3cret", "https://example.org/feed?[redacted]"},
		{"https://example.org/cb#access_token=s3cret", "https://example.org/cb#[redacted]"},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"},
		{"/var/lib/townhall/community.ics", "/var/lib/townhall/community.ics"},
		{"not a url", "not a url"},
		{"user:s3cret@host", "[redacted]"},
		{"https://exa mple.org/?k=s3cret", "[redacted]"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
