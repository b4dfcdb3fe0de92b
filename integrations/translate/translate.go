// Package translate is the translation integration: "/translate [language]
// text" answers privately with a translation and a "Post to channel"
// button, the "Translate message" shortcut translates any message into the
// user's preferred language, and a country-flag reaction (:fr:, :flag-sa:)
// posts the translation in the message's thread, once per message and
// language. Users choose their language with "/translate set es".
//
// Staff can switch a channel to auto-translation ("/translate channel on
// es,fr", or TOWNHALL_TRANSLATE_CHANNELS): each new message there gets one
// thread reply with its translations into those of the channel's
// languages it is not already in, kept in step with edits and deletions,
// within a monthly character budget (see auto.go and budget.go).
//
// Translation is done by Google Cloud Translation (Basic, v2),
// LibreTranslate or DeepL (the subpackages google, libre and deepl, each
// with its fake beside it). Slack markup is kept out of the provider's
// hands (see markup.go), results are cached in the store by (provider,
// target language, SHA-256 of the normalised text) so a repeated text is
// billed once, and the characters sent are counted for Prometheus.
//
// It imports integrations, slackapp, scheduler and store, and its own
// subpackages; it must never import another integration or cmd/townhall.
package translate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/translate/deepl"
	"github.com/townhall/townhall/integrations/translate/google"
	"github.com/townhall/townhall/integrations/translate/libre"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// Name is the integration's name in configuration, logs and status.
const Name = "translate"

// Providers for Config.Provider.
const (
	ProviderGoogle = "google"
	ProviderLibre  = "libretranslate"
	ProviderDeepL  = "deepl"
)

const envPrefix = "TOWNHALL_"

// defaultMinWords is TOWNHALL_TRANSLATE_CHANNEL_MIN_WORDS's default.
const defaultMinWords = 3

// maxMaxCharacters is the most Config.MaxCharacters may be: Slack's own
// limit on a message's text (https://api.slack.com/methods/chat.postMessage#truncating).
const maxMaxCharacters = 40000

// Config is the integration's configuration, read by the main package with
// envconfig.Process("TOWNHALL", &cfg): each tag is the variable's name
// without the TOWNHALL_ prefix.
type Config struct {
	// Enabled switches the integration on (TOWNHALL_TRANSLATE_ENABLED).
	Enabled bool `envconfig:"TRANSLATE_ENABLED" default:"false"`
	// Provider is "google", "libretranslate" or "deepl".
	Provider string `envconfig:"TRANSLATE_PROVIDER" default:"google"`
	// DefaultLanguage is the language of users who have not chosen one.
	DefaultLanguage string `envconfig:"TRANSLATE_DEFAULT_LANGUAGE" default:"en"`
	// ReactionsEnabled turns on translation by flag reactions.
	ReactionsEnabled bool `envconfig:"TRANSLATE_REACTIONS_ENABLED" default:"true"`
	// MaxCharacters is the longest text translated at once.
	MaxCharacters int `envconfig:"TRANSLATE_MAX_CHARACTERS" default:"5000"`
	// CacheTTL is how long a translation is kept and reused.
	CacheTTL time.Duration `envconfig:"TRANSLATE_CACHE_TTL" default:"720h"`
	// Timeout bounds one translation, all its provider requests included.
	Timeout time.Duration `envconfig:"TRANSLATE_TIMEOUT" default:"10s"`
	// ProgressAfter is how long a translation may take before the user is
	// told "Translating…" while it goes on.
	ProgressAfter time.Duration `envconfig:"TRANSLATE_PROGRESS_AFTER" default:"1500ms"`

	// GoogleAPIKey authenticates to Google; empty means Application
	// Default Credentials.
	GoogleAPIKey slackapp.Secret `envconfig:"TRANSLATE_GOOGLE_API_KEY"`
	// GoogleEndpoint replaces Google's endpoint (tests only).
	GoogleEndpoint string `envconfig:"TRANSLATE_GOOGLE_ENDPOINT"`

	// LibreURL is the LibreTranslate server, required for that provider.
	LibreURL string `envconfig:"TRANSLATE_LIBRE_URL"`
	// LibreKey is the server's API key, if it requires one.
	LibreKey slackapp.Secret `envconfig:"TRANSLATE_LIBRE_KEY"`
	// LibreMaxCharacters is the most text sent in one request: the
	// server's --char-limit, if it has one.
	LibreMaxCharacters int `envconfig:"TRANSLATE_LIBRE_MAX_CHARACTERS" default:"2000"`

	// DeepLKey is the DeepL API key; keys ending in ":fx" use the free
	// endpoint.
	DeepLKey slackapp.Secret `envconfig:"TRANSLATE_DEEPL_KEY"`
	// DeepLURL replaces the endpoint chosen from the key (tests only).
	DeepLURL string `envconfig:"TRANSLATE_DEEPL_URL"`

	// Channels switches channels to auto-translation:
	// "#general=es,fr;#annonces=en,ar" (see parseChannels). Staff
	// commands override it per channel.
	Channels string `envconfig:"TRANSLATE_CHANNELS"`
	// ChannelMinWords is the fewest words a message needs to be
	// auto-translated; shorter ones ("ok", "merci !") are skipped. 0
	// means the default, 3.
	ChannelMinWords int `envconfig:"TRANSLATE_CHANNEL_MIN_WORDS" default:"3"`
	// MonthlyCharacters caps the characters sent to the provider per
	// calendar month (UTC), 0 for no cap: past it auto-translation
	// pauses until the next month.
	MonthlyCharacters int `envconfig:"TRANSLATE_MONTHLY_CHARACTERS" default:"0"`
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
	required := func(name string) { bad(name, "required when TOWNHALL_TRANSLATE_PROVIDER is %s", c.Provider) }
	switch c.Provider {
	case ProviderGoogle:
		if c.GoogleEndpoint != "" && !isHTTPURL(c.GoogleEndpoint) {
			bad("TRANSLATE_GOOGLE_ENDPOINT", "must be an absolute http(s) URL, got %q", c.GoogleEndpoint)
		}
	case ProviderLibre:
		switch {
		case c.LibreURL == "":
			required("TRANSLATE_LIBRE_URL")
		case !isHTTPURL(c.LibreURL):
			bad("TRANSLATE_LIBRE_URL", "must be an absolute http(s) URL, got %q", c.LibreURL)
		}
		if c.LibreMaxCharacters < 100 {
			bad("TRANSLATE_LIBRE_MAX_CHARACTERS", "must be at least 100, got %d", c.LibreMaxCharacters)
		}
	case ProviderDeepL:
		if !c.DeepLKey.IsSet() {
			required("TRANSLATE_DEEPL_KEY")
		}
		if c.DeepLURL != "" && !isHTTPURL(c.DeepLURL) {
			bad("TRANSLATE_DEEPL_URL", "must be an absolute http(s) URL, got %q", c.DeepLURL)
		}
	default:
		bad("TRANSLATE_PROVIDER", "must be %s, %s or %s, got %q", ProviderGoogle, ProviderLibre, ProviderDeepL, c.Provider)
	}
	if _, ok := LookupLanguage(c.DefaultLanguage); !ok {
		bad("TRANSLATE_DEFAULT_LANGUAGE", "unknown language %q; use a code such as en, fr, es, ar, zh or ru", c.DefaultLanguage)
	}
	if c.MaxCharacters < 1 || c.MaxCharacters > maxMaxCharacters {
		bad("TRANSLATE_MAX_CHARACTERS", "must be between 1 and %d, got %d", maxMaxCharacters, c.MaxCharacters)
	}
	if c.CacheTTL < time.Minute {
		bad("TRANSLATE_CACHE_TTL", "must be at least 1m, got %s", c.CacheTTL)
	}
	if c.Timeout <= 0 {
		bad("TRANSLATE_TIMEOUT", "must be positive, got %s", c.Timeout)
	}
	if c.ProgressAfter <= 0 {
		bad("TRANSLATE_PROGRESS_AFTER", "must be positive, got %s", c.ProgressAfter)
	}
	if _, err := parseChannels(c.Channels); err != nil {
		// One line: the entries' problems joined.
		bad("TRANSLATE_CHANNELS", "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if c.ChannelMinWords < 0 || c.ChannelMinWords > 100 {
		bad("TRANSLATE_CHANNEL_MIN_WORDS", "must be between 1 and 100, got %d", c.ChannelMinWords)
	}
	if c.MonthlyCharacters < 0 {
		bad("TRANSLATE_MONTHLY_CHARACTERS", "must be 0 (no cap) or a number of characters, got %d", c.MonthlyCharacters)
	}
	return errors.Join(errs...)
}

// Describe says which provider is active and how it authenticates, for
// `townhall check` and the start-up log; it never shows a secret.
func (c Config) Describe() string {
	switch c.Provider {
	case ProviderGoogle:
		if c.GoogleAPIKey.IsSet() {
			return "Google Cloud Translation (Basic, v2), with an API key"
		}
		return "Google Cloud Translation (Basic, v2), with Application Default Credentials"
	case ProviderLibre:
		auth := "without an API key"
		if c.LibreKey.IsSet() {
			auth = "with an API key"
		}
		return "LibreTranslate at " + slackapp.RedactURL(c.LibreURL) + ", " + auth
	case ProviderDeepL:
		if deepl.IsFreeKey(c.DeepLKey) {
			return "DeepL API Free (" + deepl.FreeURL + ")"
		}
		return "DeepL API Pro (" + deepl.ProURL + ")"
	}
	return "no provider"
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Poster posts a message to a channel and returns its timestamp;
// *slackapp.Poster is one. Post blocks until Slack accepted the message or
// ctx is done.
type Poster interface {
	Post(ctx context.Context, channel string, m slackapp.Message) (string, error)
}

// SlackAPI is the part of Slack's Web API the integration calls beside the
// poster; *slack.Client (the runtime's API()) is one. It reads the message
// a flag reaction was added to, a channel's name and membership, and
// deletes the translation of a deleted message (chat.delete).
type SlackAPI interface {
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
	GetConversationInfoContext(ctx context.Context, input *slack.GetConversationInfoInput) (*slack.Channel, error)
	DeleteMessageContext(ctx context.Context, channel, messageTimestamp string) (string, string, error)
}

// Updater replaces a message the app posted; *slackapp.Poster is one.
type Updater interface {
	Update(ctx context.Context, channel, ts string, m slackapp.Message) error
}

// Deps are the capabilities the integration uses.
type Deps struct {
	// Poster posts translations to channels and threads (required).
	// When it can also Update (as *slackapp.Poster can), edited messages'
	// translations are updated in place.
	Poster Poster
	// API reads reacted messages and channels, and deletes translations
	// (required).
	API SlackAPI
	// IsStaff says who may switch channels' auto-translation on and off
	// (the runtime's IsStaff); nil means nobody may, by command.
	IsStaff func(ctx context.Context, user string) (bool, error)
	// Now is the clock of the monthly budget; nil means time.Now.
	Now func() time.Time
	// Claims makes a flag reaction post once per message and language,
	// and a Post button post once (required).
	Claims store.Claims
	// Cache keeps translations (required).
	Cache store.Cache
	// Settings keeps users' preferred languages (required).
	Settings store.Settings
	// HTTPClient calls LibreTranslate and DeepL; nil means a client with
	// a 30-second timeout. Google's client manages its own transport.
	HTTPClient *http.Client
	// Logger receives the integration's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the metrics; nil means none.
	Registerer prometheus.Registerer
}

// Integration is the translation integration. It is safe for concurrent use.
type Integration struct {
	cfg      Config
	log      *slog.Logger
	t        *translator
	poster   Poster
	api      SlackAPI
	claims   store.Claims
	cache    store.Cache
	settings store.Settings
	fallback Language
	isStaff  func(ctx context.Context, user string) (bool, error)
	now      func() time.Time
	chans    *channels
	budget   *budget
	sources  *sources
	locks    keyedMutex

	failMu   sync.Mutex
	lastFail autoFailure // the last auto-translation that failed

	outage integrations.Outage // the provider's, for staff alerts
}

var _ integrations.Integration = (*Integration)(nil)

// New checks cfg (whether or not it is enabled) and builds the integration
// and its provider client. For Google without an API key it looks up
// Application Default Credentials, and fails if there are none.
func New(cfg Config, deps Deps) (*Integration, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	switch {
	case deps.Poster == nil, deps.API == nil, deps.Claims == nil, deps.Cache == nil, deps.Settings == nil:
		return nil, fmt.Errorf("%s: Deps.Poster, API, Claims, Cache and Settings are required", Name)
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("integration", Name)
	p, key, err := newProvider(context.Background(), cfg, deps.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	fallback, _ := LookupLanguage(cfg.DefaultLanguage) // checked above
	env, _ := parseChannels(cfg.Channels)              // checked above
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	if cfg.ChannelMinWords == 0 {
		cfg.ChannelMinWords = defaultMinWords
	}
	i := &Integration{
		cfg:      cfg,
		log:      log,
		t:        &translator{p: p, key: key, cache: deps.Cache, ttl: cfg.CacheTTL, log: log, m: m},
		poster:   deps.Poster,
		api:      deps.API,
		claims:   deps.Claims,
		cache:    deps.Cache,
		settings: deps.Settings,
		fallback: fallback,
		isStaff:  deps.IsStaff,
		now:      now,
	}
	i.chans = &channels{i: i, env: env, names: make(map[string]channelName)}
	i.budget = &budget{i: i, limit: cfg.MonthlyCharacters}
	i.sources = newSources()
	i.t.billed = i.budget.add
	i.t.p = recording{provider: p, o: &i.outage, now: now}
	return i, nil
}

func newProvider(ctx context.Context, cfg Config, hc *http.Client) (provider, string, error) {
	switch cfg.Provider {
	case ProviderGoogle:
		c, err := google.New(ctx, google.Config{APIKey: cfg.GoogleAPIKey, Endpoint: cfg.GoogleEndpoint})
		if err != nil {
			return nil, "", fmt.Errorf("%sTRANSLATE_GOOGLE_API_KEY: no API key, and %w", envPrefix, err)
		}
		return googleProvider{c}, ProviderGoogle, nil
	case ProviderLibre:
		c, err := libre.New(libre.Config{URL: cfg.LibreURL, APIKey: cfg.LibreKey}, hc)
		if err != nil {
			return nil, "", err
		}
		return libreProvider{c: c, maxChars: cfg.LibreMaxCharacters}, ProviderLibre, nil
	default:
		c, err := deepl.New(deepl.Config{Key: cfg.DeepLKey, URL: cfg.DeepLURL}, hc)
		if err != nil {
			return nil, "", err
		}
		return deeplProvider{c}, ProviderDeepL, nil
	}
}

// Name returns "translate".
func (i *Integration) Name() string { return Name }

// Handlers returns /translate, the translate_message shortcut, the Post
// button, message (for channels' auto-translation) and, when enabled,
// reaction_added.
func (i *Integration) Handlers() slackapp.Handlers {
	h := slackapp.Handlers{
		Commands: []slackapp.Command{{
			Name:    Command,
			Usage:   "[language] text | set <language> | languages | channel on <languages> | off | status",
			Summary: "Translate text, privately, with a button to post it",
			Handler: slackapp.HandlerFunc(i.handleCommand),
		}},
		Shortcuts: []slackapp.Shortcut{{
			CallbackID: ShortcutCallbackID,
			Summary:    "Translate a message into your language",
			Handler:    slackapp.HandlerFunc(i.handleShortcut),
		}},
		Actions: []slackapp.Action{{
			ActionID: PostActionID,
			Handler:  slackapp.HandlerFunc(i.handlePost),
		}},
	}
	h.Events = []slackapp.Event{{Type: "message", Handler: slackapp.HandlerFunc(i.handleMessage)}}
	if i.cfg.ReactionsEnabled {
		h.Events = append(h.Events, slackapp.Event{Type: "reaction_added", Handler: slackapp.HandlerFunc(i.handleReaction)})
	}
	return h
}

// Jobs returns none: expired translations are purged by the app's daily
// store purge.
func (i *Integration) Jobs() []scheduler.Job { return nil }

// ProviderName is the active provider as users see it: "DeepL".
func (i *Integration) ProviderName() string { return i.t.p.name() }

// clean returns err's message with the provider keys removed, for logs.
func (i *Integration) clean(err error) string {
	msg := err.Error()
	for _, s := range []slackapp.Secret{i.cfg.GoogleAPIKey, i.cfg.LibreKey, i.cfg.DeepLKey} {
		if s.IsSet() {
			msg = strings.ReplaceAll(msg, s.Reveal(), s.String())
		}
	}
	return msg
}
