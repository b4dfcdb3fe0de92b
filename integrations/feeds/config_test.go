package feeds_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/townhall/townhall/integrations/feeds"
)

func TestConfigDefaults(t *testing.T) {
	// Not parallel: t.Setenv.
	for _, v := range []string{"FEEDS_ENABLED", "FEEDS_SOURCES", "FEEDS_X_BEARER_TOKEN", "FEEDS_X_INTERVAL", "FEEDS_BACKFILL"} {
		t.Setenv("TOWNHALL_"+v, "")
		if err := os.Unsetenv("TOWNHALL_" + v); err != nil {
			t.Fatal(err)
		}
	}
	var c feeds.Config
	if err := envconfig.Process("TOWNHALL", &c); err != nil {
		t.Fatal(err)
	}
	if c.Enabled || c.XInterval != 15*time.Minute || c.Backfill != 1 || c.XAPIURL != "https://api.x.com/2" || c.MaxConcurrent != 8 {
		t.Errorf("defaults = %+v", c)
	}
	c.Enabled = true
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		tweak func(*feeds.Config)
		want  []string // substrings of the error, "" for none
	}{
		{"valid", func(*feeds.Config) {}, nil},
		{"disabled is not checked", func(c *feeds.Config) { c.Enabled = false; c.Backfill = -1 }, nil},
		{"X without token", func(c *feeds.Config) { c.Sources = "@hq -> #general" },
			[]string{"TOWNHALL_FEEDS_X_BEARER_TOKEN: required for the X account @hq"}},
		{"bad entry named", func(c *feeds.Config) {
			c.Sources = "https://a.example/feed -> #news\nhttps://b.example/feed #news"
		}, []string{`TOWNHALL_FEEDS_SOURCES: entry 2 "https://b.example/feed #news": expected`}},
		{"every problem at once", func(c *feeds.Config) {
			c.XInterval, c.Interval, c.Backfill, c.MaxItems, c.MaxConcurrent, c.XPageSize = time.Second, 0, 99, 0, 0, 1
		}, []string{"TOWNHALL_FEEDS_X_INTERVAL", "TOWNHALL_FEEDS_INTERVAL", "TOWNHALL_FEEDS_BACKFILL", "TOWNHALL_FEEDS_MAX_ITEMS",
			"TOWNHALL_FEEDS_MAX_CONCURRENT", "TOWNHALL_FEEDS_X_PAGE_SIZE"}},
		{"bad API URL", func(c *feeds.Config) { c.XAPIURL = "api.x.com" }, []string{"TOWNHALL_FEEDS_X_API_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := baseConfig()
			tt.tweak(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nwant it to contain %q", err, w)
				}
			}
			if _, nerr := feeds.New(c, feeds.Deps{}); nerr == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
	c := baseConfig()
	c.Sources, c.XBearerToken = "@hq -> #general", "sekrit-bearer-token"
	c.Backfill = -1
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("Validate: %v (must fail without echoing the token)", err)
	}
}

func TestParseSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string // "kind source channels filters" per sub, joined by " | "
		wantErr string
	}{
		{"", "", ""},
		{"@TownhallHQ -> #announcements, #social | reposts",
			"x TownhallHQ [#announcements #social] reposts", ""},
		{"https://blog.example.org/feed.xml -> C0NEWS123 | include:Release,launch exclude:sponsored\n# a comment\n\n; https://mastodon.social/@ex.rss -> <#C0SOC|social>",
			"feed https://blog.example.org/feed.xml [C0NEWS123] include:release,launch exclude:sponsored | feed https://mastodon.social/@ex.rss [C0SOC] ", ""},
		{"@hq -> #a\n@HQ -> #b", "", `entry 2 "@HQ -> #b": @HQ is already listed in entry 1`},
		{"@not-a-handle -> #a", "", "is not an X username"},
		{"ftp://x -> #a", "", "neither an @username nor an http(s) URL"},
		{"https://x.example -> ", "", "names no channel"},
		{"https://x.example -> general", "", `"general" is not a channel`},
		{"https://x.example -> #a | loud", "", `unknown filter "loud"`},
		{"https://x.example -> #a | include:", "", "needs words after the colon"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			subs, err := feeds.ParseSources(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range subs {
				got = append(got, s.Kind+" "+s.Source+" "+strings.Join(strings.Fields("["+strings.Join(s.Channels, " ")+"]"), " ")+" "+s.Filters.String())
				if !s.FromEnv || !strings.HasPrefix(s.ID, "env-") {
					t.Errorf("%+v: not marked as from the environment", s)
				}
			}
			if strings.Join(got, " | ") != tt.want {
				t.Errorf("got  %q\nwant %q", strings.Join(got, " | "), tt.want)
			}
		})
	}
}

func FuzzParseSources(f *testing.F) {
	f.Add("@hq -> #a, C0123 | replies include:x,y")
	f.Add("https://a.example/feed -> <#C1|x>;https://b.example -> #b | exclude:z")
	f.Fuzz(func(t *testing.T, s string) {
		subs, err := feeds.ParseSources(s)
		if err != nil {
			return
		}
		for _, sub := range subs {
			if len(sub.Channels) == 0 || sub.Source == "" || sub.ID == "" {
				t.Errorf("accepted an incomplete subscription %+v from %q", sub, s)
			}
		}
	})
}
