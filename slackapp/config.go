package slackapp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Config is the runtime's configuration. Slack's own variables keep Slack's
// names; the rest are TOWNHALL_ settings. Process it with an empty prefix:
// envconfig.Process("", &cfg).
type Config struct {
	// AppToken is the app-level token (xapp-…) with connections:write, used
	// to open Socket Mode connections.
	AppToken Secret `envconfig:"SLACK_APP_TOKEN"`
	// BotToken is the bot token (xoxb-…) used for every Web API call.
	BotToken Secret `envconfig:"SLACK_BOT_TOKEN"`
	// APIURL is the Web API base; point it at GovSlack or a fake.
	APIURL string `envconfig:"SLACK_API_URL" default:"https://slack.com/api/"`

	// StaffUsers are user IDs treated as staff besides workspace admins and owners.
	StaffUsers []string `envconfig:"TOWNHALL_STAFF_USERS"`
	// HandlerTimeout bounds one handler's run.
	HandlerTimeout time.Duration `envconfig:"TOWNHALL_HANDLER_TIMEOUT" default:"30s"`
	// ShutdownTimeout bounds how long shutdown waits for in-flight handlers.
	ShutdownTimeout time.Duration `envconfig:"TOWNHALL_SHUTDOWN_TIMEOUT" default:"10s"`
	// MaxConcurrentHandlers bounds how many handlers run at once; envelopes
	// beyond it are still acknowledged at once and wait for a slot.
	MaxConcurrentHandlers int `envconfig:"TOWNHALL_MAX_CONCURRENT_HANDLERS" default:"64"`
}

// Validate reports every problem with the configuration, each naming its
// variable. Tokens are checked for their kind by prefix only; their values
// never appear in the error.
func (c Config) Validate() error {
	var errs []error
	switch {
	case !c.AppToken.IsSet():
		errs = append(errs, errors.New("SLACK_APP_TOKEN: not set (an app-level token, xapp-…, with connections:write; see README \"Creating the Slack app\")"))
	case hasBlank(c.AppToken):
		errs = append(errs, errors.New("SLACK_APP_TOKEN: "+blankToken))
	case !strings.HasPrefix(c.AppToken.Reveal(), "xapp-"):
		errs = append(errs, errors.New("SLACK_APP_TOKEN: must be an app-level token starting with xapp-"))
	}
	switch {
	case !c.BotToken.IsSet():
		errs = append(errs, errors.New("SLACK_BOT_TOKEN: not set (the bot token, xoxb-…, from OAuth & Permissions)"))
	case hasBlank(c.BotToken):
		errs = append(errs, errors.New("SLACK_BOT_TOKEN: "+blankToken))
	case !strings.HasPrefix(c.BotToken.Reveal(), "xoxb-"):
		errs = append(errs, errors.New("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-"))
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("SLACK_API_URL: must be an absolute http(s) URL such as https://slack.com/api/, got %q", RedactURL(c.APIURL)))
	}
	for _, id := range c.StaffUsers {
		if !isUserID(id) {
			errs = append(errs, fmt.Errorf("TOWNHALL_STAFF_USERS: %q is not a Slack user ID (like U012AB3CD)", id))
		}
	}
	if c.HandlerTimeout <= 0 {
		errs = append(errs, fmt.Errorf("TOWNHALL_HANDLER_TIMEOUT: must be positive, got %s", c.HandlerTimeout))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("TOWNHALL_SHUTDOWN_TIMEOUT: must be positive, got %s", c.ShutdownTimeout))
	}
	if c.MaxConcurrentHandlers < 1 {
		errs = append(errs, fmt.Errorf("TOWNHALL_MAX_CONCURRENT_HANDLERS: must be at least 1, got %d", c.MaxConcurrentHandlers))
	}
	return errors.Join(errs...)
}

// blankToken says what is wrong with a token that hasBlank refuses.
const blankToken = "contains a space, line break or control character (often a newline pasted with it); set it again with the token alone"

// hasBlank reports whether a token holds whitespace or a control
// character. Slack's tokens never do; one pasted with a trailing newline
// would otherwise pass the prefix check and fail later as invalid_auth,
// or split an HTTP header.
func hasBlank(s Secret) bool {
	return strings.ContainsFunc(s.Reveal(), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// apiURL returns APIURL with the trailing slash slack-go expects.
func (c Config) apiURL() string {
	if strings.HasSuffix(c.APIURL, "/") {
		return c.APIURL
	}
	return c.APIURL + "/"
}

// isUserID reports whether s looks like a Slack user ID (U… or W…).
func isUserID(s string) bool {
	if len(s) < 3 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
