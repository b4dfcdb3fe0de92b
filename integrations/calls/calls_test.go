package calls_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/townhall/townhall/integrations/calls"
	"github.com/townhall/townhall/slackapp"
)

// defaults returns the configuration envconfig gives with nothing set.
func defaults(t *testing.T) calls.Config {
	t.Helper()
	var cfg calls.Config
	if err := envconfig.Process("TOWNHALL_CALLS_TEST_UNSET", &cfg); err != nil {
		t.Fatalf("envconfig: %v", err)
	}
	return cfg
}

// TestConfigFromEnvironment is not parallel: it sets variables.
func TestConfigFromEnvironment(t *testing.T) {
	t.Setenv("TOWNHALL_CALLS_PROVIDER", "zoom")
	t.Setenv("TOWNHALL_CALLS_ZOOM_ACCOUNT_ID", "acct")
	t.Setenv("TOWNHALL_CALLS_ZOOM_CLIENT_ID", "client")
	t.Setenv("TOWNHALL_CALLS_ZOOM_CLIENT_SECRET", "hunter2-secret")
	t.Setenv("TOWNHALL_CALLS_MAX_TOPIC", "80")
	var cfg calls.Config
	if err := envconfig.Process("TOWNHALL", &cfg); err != nil {
		t.Fatalf("envconfig: %v", err)
	}
	want := calls.Config{
		Enabled:          true,
		Provider:         "zoom",
		JitsiURL:         "https://meet.jit.si",
		MaxTopic:         80,
		ZoomAccountID:    "acct",
		ZoomClientID:     "client",
		ZoomClientSecret: "hunter2-secret",
		ZoomAPIURL:       "https://api.zoom.us/v2",
		ZoomOAuthURL:     "https://zoom.us/oauth/token",
		ZoomTimeout:      5 * time.Second,
	}
	if cfg != want {
		t.Errorf("config = %+v\nwant     %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, "hunter2") {
			t.Errorf("%s of the config shows the secret: %s", verb, s)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	zoom := func(c *calls.Config) {
		c.Provider = "zoom"
		c.ZoomAccountID, c.ZoomClientID, c.ZoomClientSecret = "a", "b", slackapp.Secret("c")
	}
	tests := []struct {
		name   string
		modify func(*calls.Config)
		want   []string // substrings of the error; none means valid
	}{
		{name: "defaults", modify: func(*calls.Config) {}},
		{name: "zoom with credentials", modify: zoom},
		{name: "self-hosted jitsi with a path", modify: func(c *calls.Config) { c.JitsiURL = "http://jitsi.internal:8443/meet/" }},
		{
			name:   "unknown provider",
			modify: func(c *calls.Config) { c.Provider = "skype" },
			want:   []string{`TOWNHALL_CALLS_PROVIDER: must be jitsi or zoom, got "skype"`},
		},
		{
			name:   "zoom without credentials names all three",
			modify: func(c *calls.Config) { c.Provider = "zoom" },
			want: []string{
				"TOWNHALL_CALLS_ZOOM_ACCOUNT_ID: required",
				"TOWNHALL_CALLS_ZOOM_CLIENT_ID: required",
				"TOWNHALL_CALLS_ZOOM_CLIENT_SECRET: required",
			},
		},
		{
			name: "zoom timeout",
			modify: func(c *calls.Config) {
				zoom(c)
				c.ZoomTimeout = 0
			},
			want: []string{"TOWNHALL_CALLS_ZOOM_TIMEOUT: must be positive"},
		},
		{
			name: "bad URLs and limit, all at once",
			modify: func(c *calls.Config) {
				c.JitsiURL = "meet.jit.si"
				c.ZoomAPIURL = "ftp://api.zoom.us"
				c.ZoomOAuthURL = "://"
				c.MaxTopic = 0
			},
			want: []string{
				`TOWNHALL_CALLS_JITSI_URL: must be an absolute http(s) URL, got "meet.jit.si"`,
				`TOWNHALL_CALLS_ZOOM_API_URL: must be an absolute http(s) URL, got "ftp://api.zoom.us"`,
				`TOWNHALL_CALLS_ZOOM_OAUTH_URL: must be an absolute http(s) URL`,
				"TOWNHALL_CALLS_MAX_TOPIC: must be between 1 and 500, got 0",
			},
		},
		{
			name:   "jitsi URL with a query",
			modify: func(c *calls.Config) { c.JitsiURL = "https://meet.jit.si/?x=1" },
			want:   []string{"TOWNHALL_CALLS_JITSI_URL: must not have a query or fragment"},
		},
		{
			name: "disabled is not checked",
			modify: func(c *calls.Config) {
				c.Enabled = false
				c.Provider = "skype"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := defaults(t)
			tt.modify(&cfg)
			err := cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want errors %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %q\ndoes not contain %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tt.want) {
				t.Errorf("Validate reported %d problems, want %d: %v", got, len(tt.want), err)
			}
		})
	}
}

func TestNewChecksDisabledConfigToo(t *testing.T) {
	t.Parallel()
	cfg := defaults(t)
	cfg.Enabled = false
	cfg.Provider = "skype"
	if _, err := calls.New(cfg, calls.Deps{}); err == nil || !strings.Contains(err.Error(), "TOWNHALL_CALLS_PROVIDER") {
		t.Errorf("New: %v, want an error naming TOWNHALL_CALLS_PROVIDER", err)
	}
}

func TestIntegration(t *testing.T) {
	t.Parallel()
	i, err := calls.New(defaults(t), calls.Deps{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if i.Name() != "calls" {
		t.Errorf("Name = %q, want calls", i.Name())
	}
	if jobs := i.Jobs(); len(jobs) != 0 {
		t.Errorf("Jobs = %v, want none", jobs)
	}
	h := i.Handlers()
	if len(h.Commands) != 1 {
		t.Fatalf("Commands = %+v, want one", h.Commands)
	}
	if c := h.Commands[0]; c.Name != "/call" || c.Usage != "[topic]" || c.Summary == "" || c.Handler == nil {
		t.Errorf("command = %+v", c)
	}
	if len(h.Actions) != 1 || h.Actions[0].ActionID != calls.JoinActionID || h.Actions[0].Handler == nil {
		t.Errorf("Actions = %+v, want the Join button's", h.Actions)
	}
	if err := h.Actions[0].Handler.Handle(t.Context(), &slackapp.Request{Kind: slackapp.KindInteractive}); err != nil {
		t.Errorf("Join button handler: %v", err)
	}
}
