// Package feeds posts new items from X (Twitter) accounts and from RSS 2.0,
// Atom and JSON Feed sources (websites, blogs, and Mastodon's and Bluesky's
// per-account feeds) into Slack channels: once each, oldest first, never
// flooding a channel.
//
// Subscriptions come from TOWNHALL_FEEDS_SOURCES (see ParseSources) and
// from "/feed add" (staff), which keeps them in the store. Two scheduled
// jobs poll them, one per kind ("feeds.x" every TOWNHALL_FEEDS_X_INTERVAL,
// "feeds.rss" every TOWNHALL_FEEDS_INTERVAL), with at most
// TOWNHALL_FEEDS_MAX_CONCURRENT fetches in flight. Each (subscription,
// channel, item) is claimed in the store before it is posted and confirmed
// after, so restarts and retries never post an item twice; cursors (X's
// since_id, a feed's ETag, Last-Modified and recent item IDs) persist. A
// failing source is retried with backoff and shown in /townhall status,
// and never holds up the others.
//
// X is read through feeds/xapi, a small typed client of the X API v2 (the
// go-twitter library named in the design is archived and speaks only the
// retired v1.1 API); feeds through github.com/mmcdole/gofeed, on documents
// this package fetches itself with conditional GET, a size bound and a
// timeout.
//
// It imports integrations, slackapp, scheduler, store and its own
// subpackages; it must never import another integration or cmd/townhall.
package feeds

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/feeds/xapi"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// Name is the integration's name in configuration, logs and status.
const Name = "feeds"

// The integration's jobs.
const (
	JobX    = "feeds.x"   // polls the X accounts
	JobFeed = "feeds.rss" // polls the RSS, Atom and JSON feeds
)

// Poster posts a message in a channel and returns its timestamp;
// *slackapp.Poster satisfies it. Its errors tell permanent refusals apart
// with slackapp.Permanent.
type Poster interface {
	Post(ctx context.Context, channel string, m slackapp.Message) (string, error)
}

// Deps are the capabilities the integration uses. Poster, Claims, Cursors
// and Settings are required.
type Deps struct {
	Poster   Poster
	Claims   store.Claims
	Cursors  store.Cursors
	Settings store.Settings
	// IsStaff says who may add and remove subscriptions; nil means nobody.
	IsStaff func(ctx context.Context, user string) (bool, error)
	// ResolveChannel turns a "#name" channel reference into a channel ID
	// (the runtime's ResolveChannel); its errors matching
	// slackapp.ErrUnknownChannel mean no such channel. nil means only
	// channel IDs and <#C…|name> references work.
	ResolveChannel func(ctx context.Context, ref string) (string, error)
	// HTTPClient fetches feeds and calls X; nil means a default client.
	// The per-request timeout is Config.FetchTimeout either way. Its
	// Transport must be nil or an *http.Transport: feed fetches use a copy
	// that refuses internal addresses (see Config.AllowPrivate).
	HTTPClient *http.Client
	// Logger receives the integration's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the community's time zone, for dates in posts and
	// status; nil means UTC.
	Location *time.Location
	// Registerer receives the integration's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Translate, when translation is on, turns an item's text into the
	// reply with its translations into languages (the translate
	// integration's TranslationReply); ok false: nothing to post. nil:
	// a source asking for translate: is refused.
	Translate func(ctx context.Context, text string, languages []string) (m slackapp.Message, ok bool, err error)
}

// Integration is the feeds integration. It is safe for concurrent use.
type Integration struct {
	cfg      Config
	envSubs  []Subscription
	poster   Poster
	claims   store.Claims
	cursors  store.Cursors
	settings store.Settings
	isStaff  func(context.Context, string) (bool, error)
	resolve  func(context.Context, string) (string, error) // nil: IDs only
	log      *slog.Logger
	now      func() time.Time
	loc      *time.Location
	x        *xapi.Client // nil without a bearer token
	fetch    *fetcher
	m        *metrics
	// translate is Deps.Translate; nil when translation is off.
	translate func(ctx context.Context, text string, languages []string) (slackapp.Message, bool, error)

	subsMu sync.Mutex // serialises edits of the stored subscriptions

	mu     sync.Mutex
	locks  map[string]*sync.Mutex // per subscription: one poll at a time
	health map[string]*health     // per subscription
	xPause time.Time              // X rate limit reached until then
}

var (
	_ integrations.Integration = (*Integration)(nil)
	_ integrations.Reporter    = (*Integration)(nil)
)

// New checks cfg (whether or not it is enabled) and builds the integration.
func New(cfg Config, deps Deps) (*Integration, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if deps.Poster == nil || deps.Claims == nil || deps.Cursors == nil || deps.Settings == nil {
		return nil, fmt.Errorf("%s: Deps.Poster, Claims, Cursors and Settings are required", Name)
	}
	subs, _ := ParseSources(string(cfg.Sources)) // checked above
	if deps.Translate == nil {
		for _, s := range subs {
			if len(s.Filters.Translate) > 0 {
				return nil, fmt.Errorf("%s: TOWNHALL_FEEDS_SOURCES: %s asks for translate:%s, but translation is off (set TOWNHALL_TRANSLATE_ENABLED=true and its provider)",
					Name, s.Label(), strings.Join(s.Filters.Translate, ","))
			}
		}
	}
	hc := deps.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	i := &Integration{
		cfg: cfg, envSubs: subs,
		poster: deps.Poster, claims: deps.Claims, cursors: deps.Cursors, settings: deps.Settings,
		isStaff: deps.IsStaff, resolve: deps.ResolveChannel, log: deps.Logger, now: deps.Now, loc: deps.Location,
		translate: deps.Translate,
		locks:     map[string]*sync.Mutex{},
		health:    map[string]*health{},
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	i.log = i.log.With("integration", Name)
	if i.now == nil {
		i.now = time.Now
	}
	fc, err := feedClient(hc, cfg.AllowPrivate, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	i.fetch = &fetcher{hc: fc, maxBytes: cfg.MaxFeedBytes, now: i.now}
	if i.loc == nil {
		i.loc = time.UTC
	}
	if i.isStaff == nil {
		i.isStaff = func(context.Context, string) (bool, error) { return false, nil }
	}
	if cfg.XBearerToken.IsSet() {
		x, err := xapi.New(xapi.Config{BaseURL: cfg.XAPIURL, BearerToken: cfg.XBearerToken}, hc, i.now)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
		i.x = x
	}
	if i.m, err = newMetrics(deps.Registerer); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	return i, nil
}

// Name returns "feeds".
func (i *Integration) Name() string { return Name }

// Handlers returns the /feed command.
func (i *Integration) Handlers() slackapp.Handlers {
	return slackapp.Handlers{Commands: []slackapp.Command{{
		Name:    Command,
		Usage:   "add <url | @xhandle> [#channel] | remove <id> | list [all]",
		Summary: "Post new items from X accounts and RSS/Atom feeds in a channel",
		Handler: slackapp.HandlerFunc(i.handleFeed),
	}}}
}

// Jobs returns the two polling jobs; the X one only with a bearer token.
func (i *Integration) Jobs() []scheduler.Job {
	jobs := []scheduler.Job{{
		Name: JobFeed, Spec: "@every " + i.cfg.Interval.String(),
		Run: func(ctx context.Context, _ time.Time) error { return i.PollAll(ctx, KindFeed) },
	}}
	if i.x != nil {
		jobs = append(jobs, scheduler.Job{
			Name: JobX, Spec: "@every " + i.cfg.XInterval.String(),
			Run: func(ctx context.Context, _ time.Time) error { return i.PollAll(ctx, KindX) },
		})
	}
	return jobs
}

// metrics are the integration's Prometheus metrics.
type metrics struct {
	polls  *prometheus.CounterVec   // kind, outcome
	posted *prometheus.CounterVec   // kind
	fetch  *prometheus.HistogramVec // kind
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_feeds_polls_total", Help: "Polls of a feed subscription, by kind and outcome (new, unchanged, failed).",
		}, []string{"kind", "outcome"}),
		posted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "townhall_feeds_items_posted_total", Help: "Feed items posted into channels, by kind.",
		}, []string{"kind"}),
		fetch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "townhall_feeds_fetch_duration_seconds", Help: "Time to fetch and parse a source, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 8),
		}, []string{"kind"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.polls, m.posted, m.fetch} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics: %w", err)
			}
		}
	}
	return m, nil
}
