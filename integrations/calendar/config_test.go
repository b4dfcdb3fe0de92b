package calendar_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

func TestParseSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []calendar.Source
		wantErr string
	}{
		{name: "empty", in: " ; \n "},
		{
			name: "two sources, spaces, newlines and a query with =",
			in:   " ics:https://cal.example.org/feed.ics?token=abc=C0GENERAL, C0WGIDN ;\n google:abc@group.calendar.google.com=C0GENERAL",
			want: []calendar.Source{
				{Kind: "ics", Target: "https://cal.example.org/feed.ics?token=abc", Channels: []string{"C0GENERAL", "C0WGIDN"}},
				{Kind: "google", Target: "abc@group.calendar.google.com", Channels: []string{"C0GENERAL"}},
			},
		},
		{name: "file path", in: "ics:/srv/cal.ics=G0PRIVATE", want: []calendar.Source{{Kind: "ics", Target: "/srv/cal.ics", Channels: []string{"G0PRIVATE"}}}},
		{
			name: "channel names, IDs and Slack's escaped form, each once",
			in:   "ics:https://x.org/a.ics=#general, #WG-IDN,<#C0RANDOM|random>, C0RANDOM, #wg-idn, #日本語",
			want: []calendar.Source{{Kind: "ics", Target: "https://x.org/a.ics", Channels: []string{"#general", "#wg-idn", "C0RANDOM", "#日本語"}}},
		},
		{name: "bare name", in: "ics:https://x.org/a.ics=general", wantErr: `entry 1 (ics:https://x.org/…=general): channel "general": write #name or the channel's ID, such as C0123ABCD`},
		{name: "bad name", in: "ics:/a.ics=#two words", wantErr: `channel "#two words": write #name or the channel's ID`},
		{name: "user, not channel", in: "ics:/a.ics=<@U0ADMIN>", wantErr: `channel "<@U0ADMIN>": write #name`},
		{name: "no channel", in: "google:abc@example.com", wantErr: "entry 1 (google:abc@example.com): add =<channel> after the calendar, such as =#general or =C0123ABCD"},
		{name: "unknown kind", in: "ics:/a.ics=C1X; outlook:abc=C0GENERAL", wantErr: `entry 2 (outlook:abc=C0GENERAL): unknown kind "outlook"`},
		{name: "bad scheme", in: "ics:ftp://x.org/a.ics=C0GENERAL", wantErr: "entry 1 (ics:ftp://x.org/…=C0GENERAL): the feed must be an http(s) or webcal(s) URL"},
		{name: "duplicate", in: "ics:/a.ics=C0GENERAL;ics:/a.ics=C0RANDOM", wantErr: "entry 2 (ics:/a.ics=C0RANDOM): the same calendar as entry 1"},
		{
			name: "webcal and webcals, as Apple and Outlook give them, with or without ics:",
			in:   "ics:webcal://p01-calendars.icloud.com/published/2/secret=C0GENERAL; WEBCALS://outlook.office365.com/owa/calendar/x/reachcalendar.ics=C0RANDOM\nhttps://x.org/a.ics=C0WGIDN",
			want: []calendar.Source{
				{Kind: "ics", Target: "webcal://p01-calendars.icloud.com/published/2/secret", Channels: []string{"C0GENERAL"}},
				{Kind: "ics", Target: "WEBCALS://outlook.office365.com/owa/calendar/x/reachcalendar.ics", Channels: []string{"C0RANDOM"}},
				{Kind: "ics", Target: "https://x.org/a.ics", Channels: []string{"C0WGIDN"}},
			},
		},
		{name: "bare URL with a bad scheme", in: "ftp://x.org/secret/path.ics=C0GENERAL", wantErr: "entry 1 (ftp://x.org/…=C0GENERAL): the feed must be an http(s) or webcal(s) URL"},
		{name: "a URL that does not parse", in: "ics:https://cal.example.org/secret/path%zz.ics=C0GENERAL", wantErr: "entry 1 (ics:https://cal.example.org/…=C0GENERAL): the feed must be"},
		{name: "no kind", in: "abc@group.calendar.google.com=C0GENERAL", wantErr: "entry 1 (abc@group.calendar.google.com=C0GENERAL): start with ics: or google:"},
		{name: "bare URL, no channel", in: "https://x.org/secret/path.ics", wantErr: "entry 1 (https://x.org/…): add =<channel>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := calendar.ParseSources(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret/path") || strings.Contains(err.Error(), ":://") {
					t.Errorf("the error shows a feed's path, or a mangled scheme: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v", got)
			}
			for i := range got {
				if got[i].Kind != tt.want[i].Kind || got[i].Target != tt.want[i].Target || strings.Join(got[i].Channels, ",") != strings.Join(tt.want[i].Channels, ",") {
					t.Errorf("source %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzParseSources(f *testing.F) {
	f.Add("ics:https://cal.example.org/feed.ics?token=abc=C0GENERAL,C0WGIDN; google:abc@group.calendar.google.com=C0GENERAL")
	f.Add("ics:/srv/a.ics=#general\nics:webcal://x/y=G12")
	f.Fuzz(func(t *testing.T, in string) {
		srcs, err := calendar.ParseSources(in)
		if err != nil {
			return
		}
		for _, s := range srcs {
			if s.Target == "" || len(s.Channels) == 0 || (s.Kind != calendar.KindICS && s.Kind != calendar.KindGoogle) {
				t.Fatalf("accepted %+v from %q", s, in)
			}
			if s.Key() == "" || (len(s.Target) > 12 && strings.Contains(s.Key(), s.Target)) {
				t.Fatalf("key %q", s.Key())
			}
		}
	})
}

func valid() calendar.Config {
	return calendar.Config{
		Enabled: true, Sources: "ics:https://cal.example.org/a.ics=C0GENERAL", Reminders: "24h,15m",
		PollInterval: 5 * time.Minute, CatchUp: 24 * time.Hour, Lookahead: 720 * time.Hour, PageSize: 10,
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := (calendar.Config{}).Validate(); err != nil {
		t.Errorf("disabled config: %v", err)
	}
	if err := valid().Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*calendar.Config)
		want   []string
	}{
		{"no sources", func(c *calendar.Config) { c.Sources = "" }, []string{"TOWNHALL_CALENDAR_SOURCES: required"}},
		{"google without credentials", func(c *calendar.Config) { c.Sources = "google:abc@example.com=C0GENERAL" }, []string{"TOWNHALL_CALENDAR_GOOGLE_API_KEY: a Google calendar is configured"}},
		{"both credentials", func(c *calendar.Config) {
			c.GoogleAPIKey, c.GoogleCredentialsFile = slackapp.Secret("AIza-very-secret"), "/nonexistent.json"
		}, []string{"TOWNHALL_CALENDAR_GOOGLE_CREDENTIALS_FILE: set either"}},
		{"missing key file", func(c *calendar.Config) {
			c.Sources, c.GoogleCredentialsFile = "google:abc@example.com=C0GENERAL", "/nonexistent/key.json"
		}, []string{"TOWNHALL_CALENDAR_GOOGLE_CREDENTIALS_FILE: cannot read"}},
		{"everything wrong at once", func(c *calendar.Config) {
			c.Reminders, c.Digest, c.PollInterval, c.CatchUp, c.Lookahead, c.PageSize, c.GoogleEndpoint = "24h,soon,15m,15m", "every monday", time.Second, -time.Hour, time.Hour, 0, "not a url"
		}, []string{
			`TOWNHALL_CALENDAR_REMINDERS: offset 2 ("soon")`, "TOWNHALL_CALENDAR_DIGEST:", "TOWNHALL_CALENDAR_POLL_INTERVAL:",
			"TOWNHALL_CALENDAR_CATCH_UP:", "TOWNHALL_CALENDAR_LOOKAHEAD:", "TOWNHALL_CALENDAR_PAGE_SIZE:", "TOWNHALL_CALENDAR_GOOGLE_ENDPOINT:",
		}},
		{"duplicate offset", func(c *calendar.Config) { c.Reminders = "1h,60m" }, []string{`offset 2 ("60m") is given twice`}},
		{"offset too long for the lookahead", func(c *calendar.Config) { c.Reminders, c.Lookahead = "10d", 7*24*time.Hour }, []string{"TOWNHALL_CALENDAR_LOOKAHEAD: must be at least"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.modify(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "TOWNHALL_CALENDAR_") {
					t.Errorf("line does not name its variable: %q", line)
				}
			}
			if strings.Contains(err.Error(), "very-secret") {
				t.Error("the API key was echoed")
			}
		})
	}
}

func TestNewRequiresDeps(t *testing.T) {
	t.Parallel()
	if _, err := calendar.New(valid(), calendar.Deps{}); err == nil {
		t.Error("New without a poster and claims succeeded")
	}
	// A #name needs a resolver; IDs don't.
	cfg := valid()
	cfg.Sources = "ics:https://cal.example.org/a.ics=C0GENERAL,#wg-idn"
	deps := calendar.Deps{Poster: unused{}, Claims: unused{}}
	if _, err := calendar.New(cfg, deps); err == nil || !strings.Contains(err.Error(), "names channel #wg-idn by name, which needs Deps.ResolveChannel") {
		t.Errorf("New with a #name and no resolver: %v", err)
	}
	deps.ResolveChannel = func(context.Context, string) (string, error) {
		t.Error("a channel was resolved at start-up")
		return "", errors.New("not now")
	}
	if _, err := calendar.New(cfg, deps); err != nil {
		t.Errorf("New with a resolver: %v", err)
	}
}

// unused stands in for dependencies New keeps but does not call.
type unused struct {
	calendar.Poster
	store.Claims
}

// TestSourceErrorsNeverShowCredentials: a bad entry is named in the error
// without the user info, path or query of its URL, which may be secret.
func TestSourceErrorsNeverShowCredentials(t *testing.T) {
	t.Parallel()
	for _, entry := range []string{
		"ics:https://user:hunter2@cal.example.org=",
		"ics:https://cal.example.org/private/hunter2/basic.ics=",
		"ics:https://cal.example.org/basic.ics?token=hunter2=",
		"ics:https://user:hunter2@cal.example.org:bad-port/x.ics=",
	} {
		_, err := calendar.ParseSources(entry)
		if err == nil {
			t.Fatalf("%q: want an error", entry)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows a secret: %v", entry, err)
		}
	}
}

// TestRedacted: the configuration townhall check prints shows each feed by
// scheme and host only, keeps kinds and channels, and redacts the key.
func TestRedacted(t *testing.T) {
	t.Parallel()
	c := valid()
	c.Sources = "ics:https://user:hunter2@cal.example.org/private/hunter2.ics?token=hunter2=#general, C0RANDOM;\n" +
		"webcal://p01-calendars.icloud.com/published/2/hunter2=C0WGIDN; google:abc@group.calendar.google.com=#general; ics:/srv/cal.ics=C0GENERAL"
	c.GoogleAPIKey = slackapp.Secret("AIza-hunter2")
	c.GoogleEndpoint = "https://proxy.example.org/calendar/v3/?key=hunter2"
	r := c.Redacted()
	want := "ics:https://cal.example.org/…=#general, C0RANDOM; webcal://p01-calendars.icloud.com/…=C0WGIDN; google:abc@group.calendar.google.com=#general; ics:/srv/cal.ics=C0GENERAL"
	if r.Sources != want {
		t.Errorf("Sources:\n got %s\nwant %s", r.Sources, want)
	}
	if shown := fmt.Sprintf("%v %+v", r, r); strings.Contains(shown, "hunter2") {
		t.Errorf("the redacted config shows a secret: %s", shown)
	}
	srcs, err := calendar.ParseSources(c.Sources)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(srcs[0]); got != "ics:https://cal.example.org/…=#general,C0RANDOM" {
		t.Errorf("Source.String() = %q", got)
	}
	if c.Sources == r.Sources || c.GoogleAPIKey.Reveal() != "AIza-hunter2" {
		t.Error("Redacted changed the config it was called on")
	}
}
