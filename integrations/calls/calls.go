// Package calls is the /call integration: "/call [topic]" posts, visible to
// the whole conversation, a message saying who started a call about what,
// with a Join button and the plain link. Rooms are on Jitsi Meet by default
// (no account needed; the room name carries 80 random bits so it cannot be
// guessed); with TOWNHALL_CALLS_PROVIDER=zoom a Zoom meeting is created
// through a Server-to-Server OAuth app, and Jitsi is used, saying so, when
// Zoom fails.
//
// It imports integrations, slackapp and scheduler and its own Zoom client
// (calls/zoom); it must never import another integration, the store or
// cmd/townhall.
package calls

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/calls/zoom"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
)

// Name is the integration's name in configuration, logs and status.
const Name = "calls"

// Providers for Config.Provider.
const (
	ProviderJitsi = "jitsi"
	ProviderZoom  = "zoom"
)

// The limits of Config.MaxTopic. A topic is shown in a section whose text
// Slack caps at 3000 characters (https://api.slack.com/reference/block-kit/blocks#section);
// 500 characters stay under it even if every one is escaped as "&amp;".
const (
	minMaxTopic = 1
	maxMaxTopic = 500
)

const envPrefix = "TOWNHALL_"

// Config is the integration's configuration, read by the main package with
// envconfig.Process("TOWNHALL", &cfg): each tag is the variable's name
// without the TOWNHALL_ prefix.
type Config struct {
	// Enabled switches the integration on (TOWNHALL_CALLS_ENABLED).
	Enabled bool `envconfig:"CALLS_ENABLED" default:"true"`
	// Provider is "jitsi" or "zoom".
	Provider string `envconfig:"CALLS_PROVIDER" default:"jitsi"`
	// JitsiURL is the Jitsi Meet server rooms are created on; it may have a path.
	JitsiURL string `envconfig:"CALLS_JITSI_URL" default:"https://meet.jit.si"`
	// MaxTopic is the longest topic accepted, in characters.
	MaxTopic int `envconfig:"CALLS_MAX_TOPIC" default:"150"`

	// The Zoom Server-to-Server OAuth app's credentials, required when
	// Provider is "zoom".
	ZoomAccountID    string          `envconfig:"CALLS_ZOOM_ACCOUNT_ID"`
	ZoomClientID     string          `envconfig:"CALLS_ZOOM_CLIENT_ID"`
	ZoomClientSecret slackapp.Secret `envconfig:"CALLS_ZOOM_CLIENT_SECRET"`
	// ZoomAPIURL and ZoomOAuthURL are Zoom's endpoints (changed only for tests).
	ZoomAPIURL   string `envconfig:"CALLS_ZOOM_API_URL" default:"https://api.zoom.us/v2"`
	ZoomOAuthURL string `envconfig:"CALLS_ZOOM_OAUTH_URL" default:"https://zoom.us/oauth/token"`
	// ZoomTimeout bounds how long /call waits for Zoom before it posts a
	// Jitsi room instead.
	ZoomTimeout time.Duration `envconfig:"CALLS_ZOOM_TIMEOUT" default:"5s"`
}

// Validate reports every problem with an enabled integration's
// configuration at once, each naming its variable. A disabled integration
// is not checked.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	return c.check()
}

func (c Config) check() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", envPrefix, name, fmt.Sprintf(format, args...)))
	}
	switch c.Provider {
	case ProviderJitsi, ProviderZoom:
	default:
		bad("CALLS_PROVIDER", "must be %s or %s, got %q", ProviderJitsi, ProviderZoom, c.Provider)
	}
	if _, err := jitsiBase(c.JitsiURL); err != nil {
		bad("CALLS_JITSI_URL", "%v", err)
	}
	if c.MaxTopic < minMaxTopic || c.MaxTopic > maxMaxTopic {
		bad("CALLS_MAX_TOPIC", "must be between %d and %d, got %d", minMaxTopic, maxMaxTopic, c.MaxTopic)
	}
	if _, err := httpURL(c.ZoomAPIURL); err != nil {
		bad("CALLS_ZOOM_API_URL", "%v", err)
	}
	if _, err := httpURL(c.ZoomOAuthURL); err != nil {
		bad("CALLS_ZOOM_OAUTH_URL", "%v", err)
	}
	if c.Provider == ProviderZoom {
		if c.ZoomAccountID == "" {
			bad("CALLS_ZOOM_ACCOUNT_ID", "required when TOWNHALL_CALLS_PROVIDER is zoom")
		}
		if c.ZoomClientID == "" {
			bad("CALLS_ZOOM_CLIENT_ID", "required when TOWNHALL_CALLS_PROVIDER is zoom")
		}
		if !c.ZoomClientSecret.IsSet() {
			bad("CALLS_ZOOM_CLIENT_SECRET", "required when TOWNHALL_CALLS_PROVIDER is zoom")
		}
		if c.ZoomTimeout <= 0 {
			bad("CALLS_ZOOM_TIMEOUT", "must be positive, got %s", c.ZoomTimeout)
		}
	}
	return errors.Join(errs...)
}

// httpURL parses s and checks that it is an absolute http(s) URL.
func httpURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("must be an absolute http(s) URL, got %q", s)
	}
	return u, nil
}

// jitsiBase parses a Jitsi server URL, to which a room name is appended as
// the last path segment.
func jitsiBase(s string) (*url.URL, error) {
	u, err := httpURL(s)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("must not have a query or fragment, got %q", s)
	}
	return u, nil
}

// Deps are the capabilities the integration uses. Every field may be left
// zero.
type Deps struct {
	// HTTPClient calls Zoom; nil means a client with a 10-second timeout.
	HTTPClient *http.Client
	// Logger receives the integration's logs; nil discards them.
	Logger *slog.Logger
	// Rand supplies the random part of Jitsi room names; nil means
	// crypto/rand. Anything else is for tests only.
	Rand io.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Integration is the /call integration. It is safe for concurrent use.
type Integration struct {
	cfg   Config
	log   *slog.Logger
	rand  io.Reader
	jitsi *url.URL
	zoom  *zoom.Client // nil unless the provider is Zoom
	now   func() time.Time

	zoomOutage integrations.Outage // for staff alerts
}

var _ integrations.Integration = (*Integration)(nil)

// New checks cfg (whether or not it is enabled) and builds the integration.
func New(cfg Config, deps Deps) (*Integration, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	jitsi, err := jitsiBase(cfg.JitsiURL)
	if err != nil { // unreachable after check; kept so jitsi is never nil
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	i := &Integration{
		cfg:   cfg,
		log:   deps.Logger,
		rand:  deps.Rand,
		jitsi: jitsi,
		now:   deps.Now,
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	i.log = i.log.With("integration", Name)
	if i.rand == nil {
		i.rand = rand.Reader
	}
	if cfg.Provider == ProviderZoom {
		i.zoom, err = zoom.New(zoom.Config{
			AccountID:    cfg.ZoomAccountID,
			ClientID:     cfg.ZoomClientID,
			ClientSecret: cfg.ZoomClientSecret,
			APIURL:       cfg.ZoomAPIURL,
			OAuthURL:     cfg.ZoomOAuthURL,
		}, deps.HTTPClient, deps.Now)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
	}
	return i, nil
}

// Name returns "calls".
func (i *Integration) Name() string { return Name }

// Handlers returns the /call command, and a no-op handler for clicks on the
// Join button: Slack reports a click on a link button to the app too, and
// the runtime acknowledges it, so there is nothing left to do.
func (i *Integration) Handlers() slackapp.Handlers {
	return slackapp.Handlers{
		Commands: []slackapp.Command{{
			Name:    Command,
			Usage:   "[topic]",
			Summary: "Start a video call and post its link here",
			Handler: slackapp.HandlerFunc(i.handleCall),
		}},
		Actions: []slackapp.Action{{
			ActionID: JoinActionID,
			Handler:  slackapp.HandlerFunc(func(context.Context, *slackapp.Request) error { return nil }),
		}},
	}
}

// Jobs returns none: the integration only answers commands.
func (i *Integration) Jobs() []scheduler.Job { return nil }
