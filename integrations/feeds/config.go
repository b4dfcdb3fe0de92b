package feeds

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/feeds/xapi"
	"github.com/townhall/townhall/slackapp"
)

const envPrefix = "TOWNHALL_"

// Config is the integration's configuration, read by the main package with
// envconfig.Process("TOWNHALL", &cfg): each tag is the variable's name
// without the TOWNHALL_ prefix.
type Config struct {
	// Enabled switches the integration on (TOWNHALL_FEEDS_ENABLED).
	Enabled bool `envconfig:"FEEDS_ENABLED" default:"false"`
	// Sources are the subscriptions from the environment, in the syntax
	// described by ParseSources. Shown, they are redacted.
	Sources SourceList `envconfig:"FEEDS_SOURCES"`

	// XBearerToken is the X API v2 app-only bearer token; without it X
	// sources are refused.
	XBearerToken slackapp.Secret `envconfig:"FEEDS_X_BEARER_TOKEN"`
	// XAPIURL is the X API v2 base (changed only for tests).
	XAPIURL string `envconfig:"FEEDS_X_API_URL" default:"https://api.x.com/2"`
	// XInterval is how often each X account is polled. Every poll costs one
	// request per account (more only after an outage), and X's plans cap
	// reads, so it is long by default.
	XInterval time.Duration `envconfig:"FEEDS_X_INTERVAL" default:"15m"`
	// XPageSize is max_results of each request for posts (5 to 100). X
	// bills the posts returned, not the page size, so 100 costs nothing
	// more when little is new.
	XPageSize int `envconfig:"FEEDS_X_PAGE_SIZE" default:"100"`

	// Interval is how often each RSS, Atom or JSON feed is polled.
	Interval time.Duration `envconfig:"FEEDS_INTERVAL" default:"10m"`
	// Backfill is how many of a new subscription's existing items are
	// posted by its first poll; the rest are recorded as seen.
	Backfill int `envconfig:"FEEDS_BACKFILL" default:"1"`
	// MaxItems is the most items one poll posts for one subscription (after
	// an outage, say); the rest are summed up in an "N more items" line.
	MaxItems int `envconfig:"FEEDS_MAX_ITEMS" default:"5"`
	// MaxConcurrent bounds the fetches in flight at once, per kind.
	MaxConcurrent int `envconfig:"FEEDS_MAX_CONCURRENT" default:"8"`
	// FetchTimeout bounds one fetch of a feed or one X request.
	FetchTimeout time.Duration `envconfig:"FEEDS_FETCH_TIMEOUT" default:"20s"`
	// MaxFeedBytes bounds the size of a feed document.
	MaxFeedBytes int64 `envconfig:"FEEDS_MAX_FEED_BYTES" default:"5242880"`
	// AllowPrivate lets feeds be fetched from loopback, private and
	// link-local addresses, for operators who host feeds on their own
	// network (and tests, and `townhall shell`, which serve them on
	// loopback). Off, such addresses are refused when connecting, after
	// redirects and name resolution.
	AllowPrivate bool `envconfig:"FEEDS_ALLOW_PRIVATE" default:"false"`
}

// Limits checked by Validate.
const (
	minInterval  = time.Minute
	maxBackfill  = 20
	maxMaxItems  = 50
	maxParallel  = 64
	minFeedBytes = 1 << 10
)

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
	subs, err := ParseSources(string(c.Sources))
	if err != nil {
		bad("FEEDS_SOURCES", "%v", err)
	}
	if !c.XBearerToken.IsSet() {
		for _, s := range subs {
			if s.Kind == KindX {
				bad("FEEDS_X_BEARER_TOKEN", "required for the X account @%s in TOWNHALL_FEEDS_SOURCES", s.Source)
				break
			}
		}
	}
	if u, err := url.Parse(c.XAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("FEEDS_X_API_URL", "must be an absolute http(s) URL, got %q", redactURL(c.XAPIURL))
	}
	if c.XInterval < minInterval {
		bad("FEEDS_X_INTERVAL", "must be at least %s, got %s", minInterval, c.XInterval)
	}
	if c.XPageSize < xapi.MinMaxResults || c.XPageSize > xapi.MaxMaxResults {
		bad("FEEDS_X_PAGE_SIZE", "must be between %d and %d, got %d", xapi.MinMaxResults, xapi.MaxMaxResults, c.XPageSize)
	}
	if c.Interval < minInterval {
		bad("FEEDS_INTERVAL", "must be at least %s, got %s", minInterval, c.Interval)
	}
	if c.Backfill < 0 || c.Backfill > maxBackfill {
		bad("FEEDS_BACKFILL", "must be between 0 and %d, got %d", maxBackfill, c.Backfill)
	}
	if c.MaxItems < 1 || c.MaxItems > maxMaxItems {
		bad("FEEDS_MAX_ITEMS", "must be between 1 and %d, got %d", maxMaxItems, c.MaxItems)
	}
	if c.MaxConcurrent < 1 || c.MaxConcurrent > maxParallel {
		bad("FEEDS_MAX_CONCURRENT", "must be between 1 and %d, got %d", maxParallel, c.MaxConcurrent)
	}
	if c.FetchTimeout <= 0 {
		bad("FEEDS_FETCH_TIMEOUT", "must be positive, got %s", c.FetchTimeout)
	}
	if c.MaxFeedBytes < minFeedBytes {
		bad("FEEDS_MAX_FEED_BYTES", "must be at least %d, got %d", minFeedBytes, c.MaxFeedBytes)
	}
	return errors.Join(errs...)
}

// The kinds of source.
const (
	KindX    = "x"    // an X account, read through the X API v2
	KindFeed = "feed" // an RSS 2.0, Atom or JSON Feed document
)

// Subscription maps one source to the channels its items are posted in.
type Subscription struct {
	// ID names the subscription in /feed list and /feed remove: a number
	// for those added in Slack, "env-…" for those from the environment.
	ID string `json:"id"`
	// Kind is KindX or KindFeed.
	Kind string `json:"kind"`
	// Source is the account's username (without "@") or the feed's URL.
	Source string `json:"source"`
	// Channels are channel IDs, or "#name" until resolved.
	Channels []string `json:"channels"`
	Filters  Filters  `json:"filters"`
	// FromEnv marks subscriptions from TOWNHALL_FEEDS_SOURCES, which Slack
	// commands cannot remove.
	FromEnv bool `json:"-"`
	// AddedBy and AddedAt say who added a subscription in Slack, and when.
	AddedBy string    `json:"added_by,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// Label is how the subscription's source is shown, in Slack and in logs:
// "@handle", or the URL with any credentials redacted.
func (s Subscription) Label() string {
	if s.Kind == KindX {
		return "@" + s.Source
	}
	return redactURL(s.Source)
}

// Filters choose which of a source's items are posted.
type Filters struct {
	// Replies and Reposts include replies and reposts (retweets), which are
	// skipped by default. They apply to X accounts; RSS has no such notion
	// (Mastodon's and Bluesky's feeds carry neither boosts nor replies).
	Replies bool `json:"replies,omitempty"`
	Reposts bool `json:"reposts,omitempty"`
	// Include, when set, keeps only items mentioning one of these words
	// (case-insensitive, in the title or text); Exclude drops items
	// mentioning any of them.
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// Translate lists languages (codes such as es, fr) the items are
	// translated into, in the post's thread; empty: none.
	Translate []string `json:"translate,omitempty"`
}

// String is the filters in the subscription syntax, "" for the defaults.
func (f Filters) String() string {
	var parts []string
	if f.Replies {
		parts = append(parts, "replies")
	}
	if f.Reposts {
		parts = append(parts, "reposts")
	}
	if len(f.Include) > 0 {
		parts = append(parts, "include:"+strings.Join(f.Include, ","))
	}
	if len(f.Exclude) > 0 {
		parts = append(parts, "exclude:"+strings.Join(f.Exclude, ","))
	}
	if len(f.Translate) > 0 {
		parts = append(parts, "translate:"+strings.Join(f.Translate, ","))
	}
	return strings.Join(parts, " ")
}

// keep reports whether an item passes the filters.
func (f Filters) keep(it *Item) bool {
	if (it.Reply && !f.Replies) || (it.Repost && !f.Reposts) {
		return false
	}
	if len(f.Include) == 0 && len(f.Exclude) == 0 {
		return true
	}
	hay := strings.ToLower(it.Title + "\n" + it.Text)
	if it.Quote != nil {
		hay += "\n" + strings.ToLower(it.Quote.Text)
	}
	for _, w := range f.Exclude {
		if strings.Contains(hay, w) {
			return false
		}
	}
	if len(f.Include) == 0 {
		return true
	}
	for _, w := range f.Include {
		if strings.Contains(hay, w) {
			return true
		}
	}
	return false
}

// ParseSources parses TOWNHALL_FEEDS_SOURCES. Entries are separated by new
// lines or ";" (write a ";" inside a URL as %3B); blank entries and lines
// starting with "#" followed by a space are ignored. Each entry is
//
//	<source> -> <channel>[, <channel>…] [| <filter> …]
//
// where a source is "@username" (an X account) or an http(s) URL of an
// RSS, Atom or JSON feed (a Mastodon account's is https://<instance>/@<user>.rss,
// a Bluesky account's https://bsky.app/profile/<handle>/rss); a channel is
// "#name" or a channel ID ("C0123ABCD"); and the filters, separated by
// spaces, are "replies" and "reposts" (include them; X only),
// "include:word,word", "exclude:word,word" and "translate:es,fr" (each
// item's translations in its thread). For example:
//
//	@townhallhq -> #announcements, #social | reposts
//	https://blog.example.org/feed.xml -> #news | exclude:sponsored
//
// A source may appear once. Errors name the entry (1-based) and quote it.
func ParseSources(s string) ([]Subscription, error) {
	var subs []Subscription
	var errs []error
	seen := map[string]int{}
	n := 0
	for entry := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '\n' || r == ';' }) {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "# ") {
			continue
		}
		n++
		sub, err := parseEntry(entry)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %d %q: %w", n, redactEntry(entry), err))
			continue
		}
		key := sub.Kind + " " + strings.ToLower(sub.Source)
		if first, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("entry %d %q: %s is already listed in entry %d; list its channels there", n, redactEntry(entry), sub.Label(), first))
			continue
		}
		seen[key] = n
		sub.ID = envID(sub)
		sub.FromEnv = true
		subs = append(subs, sub)
	}
	return subs, errors.Join(errs...)
}

func parseEntry(entry string) (Subscription, error) {
	src, rest, ok := strings.Cut(entry, "->")
	if !ok {
		return Subscription{}, errors.New(`expected "<source> -> <channel>", with "->" between them`)
	}
	chans, filters := cutFilters(rest)
	sub, err := parseSource(strings.TrimSpace(src))
	if err != nil {
		return Subscription{}, err
	}
	for c := range strings.FieldsFuncSeq(chans, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		ref, err := parseChannel(c)
		if err != nil {
			return Subscription{}, err
		}
		sub.Channels = append(sub.Channels, ref)
	}
	if len(sub.Channels) == 0 {
		return Subscription{}, errors.New("names no channel after \"->\"")
	}
	sub.Filters, err = parseFilters(strings.Fields(filters))
	return sub, err
}

// cutFilters splits "<channels> | <filters>" at the first "|" outside a
// Slack reference such as <#C0123ABCD|name>.
func cutFilters(s string) (channels, filters string) {
	depth := 0
	for k, r := range s {
		switch r {
		case '<':
			depth++
		case '>':
			depth = max(depth-1, 0)
		case '|':
			if depth == 0 {
				return s[:k], s[k+1:]
			}
		}
	}
	return s, ""
}

// parseSource reads "@username" or a feed URL.
func parseSource(s string) (Subscription, error) {
	if name, ok := strings.CutPrefix(s, "@"); ok {
		if !xapi.ValidUsername(name) {
			return Subscription{}, fmt.Errorf("%q is not an X username (1 to 15 letters, digits or _)", s)
		}
		return Subscription{Kind: KindX, Source: name}, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Subscription{}, fmt.Errorf("%q is neither an @username nor an http(s) URL", redactURL(s))
	}
	u.Fragment = ""
	return Subscription{Kind: KindFeed, Source: u.String()}, nil
}

// channelID is the shape of a public or private channel ID.
var channelID = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)

// parseChannel reads "#name", "<#C123|name>" or "C123" (the syntax of
// slackapp.ParseChannelRef, with the "#" required before a name) into a
// channel ID or "#name" in lower case.
func parseChannel(s string) (string, error) {
	id, name, err := slackapp.ParseChannelRef(s)
	switch {
	case err == nil && id != "":
		return id, nil
	case err == nil && strings.HasPrefix(s, "#"):
		return "#" + name, nil
	}
	return "", fmt.Errorf("%q is not a channel: write #name or a channel ID such as C0123ABCD", s)
}

func parseFilters(words []string) (Filters, error) {
	var f Filters
	for _, w := range words {
		key, val, _ := strings.Cut(strings.ToLower(w), ":")
		switch key {
		case "replies":
			f.Replies = true
		case "reposts", "retweets":
			f.Reposts = true
		case "translate":
			for k := range strings.SplitSeq(val, ",") {
				if k = strings.TrimSpace(k); k != "" {
					f.Translate = append(f.Translate, k)
				}
			}
			if len(f.Translate) == 0 {
				return f, fmt.Errorf("%q needs languages after the colon, such as translate:es,fr", w)
			}
		case "include", "exclude":
			var list []string
			for k := range strings.SplitSeq(val, ",") {
				if k = strings.TrimSpace(k); k != "" {
					list = append(list, k)
				}
			}
			if len(list) == 0 {
				return f, fmt.Errorf("%q needs words after the colon, such as %s:release,launch", w, key)
			}
			if key == "include" {
				f.Include = append(f.Include, list...)
			} else {
				f.Exclude = append(f.Exclude, list...)
			}
		default:
			return f, fmt.Errorf("unknown filter %q: use replies, reposts, include:word,…, exclude:word,… or translate:es,fr,…", w)
		}
	}
	return f, nil
}
