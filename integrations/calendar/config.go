package calendar

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/townhall/townhall/slackapp"
)

const envPrefix = "TOWNHALL_"

// Config is the integration's configuration, read by the main package with
// envconfig.Process("TOWNHALL", &cfg): each tag is the variable's name
// without the TOWNHALL_ prefix.
type Config struct {
	// Enabled switches the integration on (TOWNHALL_CALENDAR_ENABLED).
	Enabled bool `envconfig:"CALENDAR_ENABLED" default:"false"`
	// Sources maps calendars to channels; see ParseSources for the syntax.
	Sources string `envconfig:"CALENDAR_SOURCES"`
	// Reminders are the offsets before an event's start at which it is
	// announced, comma-separated Go durations ("24h,15m"); empty turns
	// reminders off.
	Reminders string `envconfig:"CALENDAR_REMINDERS" default:"24h,15m"`
	// Digest is a cron spec ("0 7 * * MON") for an agenda of the events
	// until the next digest; empty turns digests off.
	Digest string `envconfig:"CALENDAR_DIGEST"`
	// GoogleAPIKey reads public Google calendars.
	GoogleAPIKey slackapp.Secret `envconfig:"CALENDAR_GOOGLE_API_KEY"`
	// GoogleCredentialsFile is a service account's JSON key file, for
	// calendars shared with the service account.
	GoogleCredentialsFile string `envconfig:"CALENDAR_GOOGLE_CREDENTIALS_FILE"`
	// GoogleEndpoint is the Calendar API's base URL (changed only for tests).
	GoogleEndpoint string `envconfig:"CALENDAR_GOOGLE_ENDPOINT"`
	// PollInterval is how often each calendar is fetched again.
	PollInterval time.Duration `envconfig:"CALENDAR_POLL_INTERVAL" default:"5m"`
	// CatchUp is how long after it fell due a reminder missed while the app
	// was down is still posted (marked late), and never once the event
	// has started.
	CatchUp time.Duration `envconfig:"CALENDAR_CATCH_UP" default:"24h"`
	// Lookahead is how far ahead /events can look and Google calendars are
	// read.
	Lookahead time.Duration `envconfig:"CALENDAR_LOOKAHEAD" default:"720h"`
	// PageSize is how many events one /events answer lists.
	PageSize int `envconfig:"CALENDAR_PAGE_SIZE" default:"10"`
	// RSVP puts Going / Maybe / Can't buttons on reminders and an RSVP
	// button on each event of /events (whose pages then list at most
	// rsvpPageSize events, for Slack's 50 blocks).
	RSVP bool `envconfig:"CALENDAR_RSVP" default:"true"`
}

// Limits of the configuration.
const (
	minPollInterval = time.Minute
	maxOffset       = 30 * 24 * time.Hour
	minLookahead    = 7 * 24 * time.Hour
	maxLookahead    = 366 * 24 * time.Hour
	maxPageSize     = 40 // a message holds at most 50 blocks
)

// Validate reports every problem with an enabled integration's
// configuration at once, each naming its variable. A disabled integration
// is not checked.
func (c Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	_, err := c.parse()
	return err
}

// parsed is a Config turned into values.
type parsed struct {
	sources []Source
	offsets []time.Duration // descending
	digest  cron.Schedule   // nil: off
}

func (c Config) parse() (parsed, error) {
	var p parsed
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", envPrefix, name, fmt.Sprintf(format, args...)))
	}
	var err error
	if p.sources, err = ParseSources(c.Sources); err != nil {
		bad("CALENDAR_SOURCES", "%v", err)
	} else if len(p.sources) == 0 {
		bad("CALENDAR_SOURCES", "required: at least one calendar, such as %q", "ics:https://example.org/community.ics=#general")
	}
	google := slices.ContainsFunc(p.sources, func(s Source) bool { return s.Kind == KindGoogle })
	switch {
	case google && !c.GoogleAPIKey.IsSet() && c.GoogleCredentialsFile == "":
		bad("CALENDAR_GOOGLE_API_KEY", "a Google calendar is configured: set this (public calendars) or TOWNHALL_CALENDAR_GOOGLE_CREDENTIALS_FILE (calendars shared with a service account)")
	case c.GoogleAPIKey.IsSet() && c.GoogleCredentialsFile != "":
		bad("CALENDAR_GOOGLE_CREDENTIALS_FILE", "set either this or TOWNHALL_CALENDAR_GOOGLE_API_KEY, not both")
	case google && c.GoogleCredentialsFile != "":
		if _, err := os.Stat(c.GoogleCredentialsFile); err != nil {
			bad("CALENDAR_GOOGLE_CREDENTIALS_FILE", "cannot read the key file: %v", err)
		}
	}
	if c.GoogleEndpoint != "" {
		if u, err := url.Parse(c.GoogleEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("CALENDAR_GOOGLE_ENDPOINT", "must be an absolute http(s) URL, got %q", c.GoogleEndpoint)
		}
	}
	if p.offsets, err = parseOffsets(c.Reminders); err != nil {
		bad("CALENDAR_REMINDERS", "%v", err)
	}
	if strings.TrimSpace(c.Digest) != "" {
		if p.digest, err = cronParser.Parse(strings.TrimSpace(c.Digest)); err != nil {
			bad("CALENDAR_DIGEST", "not a cron spec such as \"0 7 * * MON\" (Mondays at 07:00): %v", err)
		}
	}
	if c.PollInterval < minPollInterval {
		bad("CALENDAR_POLL_INTERVAL", "must be at least %s, got %s", minPollInterval, c.PollInterval)
	}
	if c.CatchUp < 0 {
		bad("CALENDAR_CATCH_UP", "must not be negative, got %s", c.CatchUp)
	}
	if c.Lookahead < minLookahead || c.Lookahead > maxLookahead {
		bad("CALENDAR_LOOKAHEAD", "must be between %s and %s, got %s", minLookahead, maxLookahead, c.Lookahead)
	} else if len(p.offsets) > 0 && p.offsets[0] > c.Lookahead {
		bad("CALENDAR_LOOKAHEAD", "must be at least the longest reminder offset, %s", p.offsets[0])
	}
	if c.PageSize < 1 || c.PageSize > maxPageSize {
		bad("CALENDAR_PAGE_SIZE", "must be between 1 and %d, got %d", maxPageSize, c.PageSize)
	}
	return p, errors.Join(errs...)
}

// cronParser reads CALENDAR_DIGEST as the scheduler does: five fields or a
// descriptor, optionally with a TZ= prefix.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseOffsets reads "24h,15m" into descending, distinct offsets.
func parseOffsets(s string) ([]time.Duration, error) {
	var out []time.Duration
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := parseOffset(f)
		if err != nil {
			return nil, fmt.Errorf("offset %d (%q): %v", i+1, f, err)
		}
		if slices.Contains(out, d) {
			return nil, fmt.Errorf("offset %d (%q) is given twice", i+1, f)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return out, nil
}

// parseOffset reads one offset: a Go duration ("90m", "1h30m"), or days
// ("2d"), between one minute and 30 days, in whole minutes.
func parseOffset(f string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(f, "d"); ok && !strings.ContainsAny(days, "hms") {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("not a duration such as 24h, 2d or 15m")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(f); err != nil {
			return 0, fmt.Errorf("not a duration such as 24h, 2d or 15m")
		}
	}
	if d < time.Minute || d > maxOffset || d%time.Minute != 0 {
		return 0, fmt.Errorf("must be whole minutes between 1m and 30d")
	}
	return d, nil
}

// Source kinds.
const (
	KindICS    = "ics"
	KindGoogle = "google"
)

// Source is one calendar and the channels its events go to.
type Source struct {
	Kind   string // KindICS or KindGoogle
	Target string // the feed's URL or path, or the Google calendar ID
	// Channels are channel IDs, and "#name"s (in lower case) that the
	// integration resolves to IDs at their first use.
	Channels []string
}

// Key is a short, stable name for the source in the store: a hash, since
// a feed's "secret address" is a credential that must not be stored in
// claim keys or logged.
func (s Source) Key() string {
	sum := sha256.Sum256([]byte(s.Kind + ":" + s.Target))
	return s.Kind + "-" + hex.EncodeToString(sum[:6])
}

// Label names the source for people without revealing a secret address:
// a feed's host (or file name), or a Google calendar's ID.
func (s Source) Label() string {
	if s.Kind == KindGoogle {
		return s.Target
	}
	if _, host, ok := splitURL(s.Target); ok {
		return host
	}
	parts := strings.Split(s.Target, "/")
	return parts[len(parts)-1]
}

// String is the source as written in TOWNHALL_CALENDAR_SOURCES, with a
// feed's address shortened to its scheme and host: safe to log or show.
func (s Source) String() string {
	return s.Kind + ":" + redactTarget(s.Target) + "=" + strings.Join(s.Channels, ",")
}

// LogValue logs the source as String does.
func (s Source) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Redacted returns the configuration with what may be secret shortened, for
// display (townhall check): each feed address in Sources to its scheme and
// host (a "secret address" is a credential), and the Google endpoint
// likewise if it carries user info or a query. GoogleAPIKey is a
// slackapp.Secret, which redacts itself.
func (c Config) Redacted() Config {
	var entries []string
	for _, line := range strings.Split(c.Sources, "\n") {
		for _, entry := range strings.Split(line, ";") {
			if entry = strings.TrimSpace(entry); entry != "" {
				entries = append(entries, redactEntry(entry))
			}
		}
	}
	c.Sources = strings.Join(entries, "; ")
	if strings.ContainsAny(c.GoogleEndpoint, "@?") {
		c.GoogleEndpoint = redactTarget(c.GoogleEndpoint)
	}
	return c
}

// feedSchemes are the URL schemes of a feed; webcal and webcals (Apple's
// names for a subscribed calendar) are fetched over https.
var feedSchemes = []string{"http", "https", "webcal", "webcals"}

// splitURL splits "scheme://[user@]host[/path…]" into its lower-case
// scheme and its host, without the user info. It never fails on what
// follows the host, so a malformed secret path cannot end up in an error.
func splitURL(target string) (scheme, host string, ok bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(target), "://")
	if !ok || scheme == "" || strings.ContainsAny(scheme, "/?#@") {
		return "", "", false
	}
	host = rest
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	return strings.ToLower(scheme), host, host != ""
}

// redactTarget shows a feed's address as scheme://host, with "/…" when
// anything (user info, path, query) was left out; other targets (a file
// path, a Google calendar ID) as they are.
func redactTarget(target string) string {
	target = strings.TrimSpace(target)
	scheme, host, ok := splitURL(target)
	if !ok {
		if strings.Contains(target, "://") {
			return "…" // a URL without a readable host: show none of it
		}
		return target
	}
	out := scheme + "://" + host
	if len(target) > len(out) {
		out += "/…"
	}
	return out
}

// ParseSources reads TOWNHALL_CALENDAR_SOURCES: entries separated by ";"
// or newlines, each
//
//	ics:<feed URL or file path>=<channel>[,<channel>...]
//	google:<calendar ID>=<channel>[,<channel>...]
//
// where a feed URL is http(s):// or webcal(s):// (fetched as https; the
// "ics:" may be left out before one), and a channel is "#name" or a
// channel ID (at the bottom of the channel's About tab), for example
//
//	ics:https://calendar.example.org/community.ics=#general,C0WGIDN; google:abc123@group.calendar.google.com=#general
//
// Only the syntax is checked here: a "#name" is looked up in Slack at its
// first use (see Deps.ResolveChannel), and a name that matches no channel
// shows in /townhall status without holding up the other channels. An ID
// keeps working if the channel is renamed. The channel list follows the
// last "=", so a URL may contain "=" in its query. Errors name the entry
// by position and content, with a secret address shortened to its host.
func ParseSources(s string) ([]Source, error) {
	var out []Source
	var errs []error
	seen := make(map[string]int)
	n := 0
	for _, line := range strings.Split(s, "\n") {
		for _, entry := range strings.Split(line, ";") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			src, err := parseSource(entry)
			if err != nil {
				errs = append(errs, fmt.Errorf("entry %d (%s): %v", n, shorten(entry), err))
				continue
			}
			if first, dup := seen[src.Kind+":"+src.Target]; dup {
				errs = append(errs, fmt.Errorf("entry %d (%s): the same calendar as entry %d; list all its channels in one entry", n, shorten(entry), first))
				continue
			}
			seen[src.Kind+":"+src.Target] = n
			out = append(out, src)
		}
	}
	return out, errors.Join(errs...)
}

func parseSource(entry string) (Source, error) {
	i := strings.LastIndex(entry, "=")
	if i < 0 {
		return Source{}, fmt.Errorf("add =<channel> after the calendar, such as =#general or =C0123ABCD")
	}
	kind, target := kindOf(entry[:i])
	src := Source{Kind: kind, Target: strings.TrimSpace(target)}
	for _, ch := range strings.Split(entry[i+1:], ",") {
		ch = strings.TrimSpace(ch)
		if ch == "" {
			continue
		}
		ref, err := channelRef(ch)
		if err != nil {
			return Source{}, err
		}
		if !slices.Contains(src.Channels, ref) {
			src.Channels = append(src.Channels, ref)
		}
	}
	if len(src.Channels) == 0 {
		return Source{}, fmt.Errorf("no channel after =")
	}
	switch kind {
	case KindICS:
		if src.Target == "" {
			return Source{}, fmt.Errorf("no feed URL or file path after ics:")
		}
		if strings.Contains(src.Target, "://") {
			scheme, _, ok := splitURL(src.Target)
			u, err := url.Parse(src.Target)
			if !ok || err != nil || u.Host == "" || !slices.Contains(feedSchemes, scheme) {
				return Source{}, fmt.Errorf("the feed must be an http(s) or webcal(s) URL, or a file path")
			}
		}
	case KindGoogle:
		if src.Target == "" || strings.ContainsAny(src.Target, " /?#") {
			return Source{}, fmt.Errorf("%q is not a Google calendar ID such as abc123@group.calendar.google.com", src.Target)
		}
	case "":
		return Source{}, fmt.Errorf("start with ics: or google:")
	default:
		return Source{}, fmt.Errorf("unknown kind %q: use ics: or google:", kind)
	}
	return src, nil
}

// kindOf splits "ics:<target>" or "google:<target>" into the kind (lower
// case) and the target. A bare feed URL (https://…, webcal://…, as a
// calendar app's "copy link" gives it) is an ics: source.
func kindOf(s string) (kind, target string) {
	s = strings.TrimSpace(s)
	k, rest, ok := strings.Cut(s, ":")
	if !ok {
		return "", s
	}
	k = strings.ToLower(strings.TrimSpace(k))
	if k == KindICS || k == KindGoogle {
		return k, rest
	}
	if strings.HasPrefix(rest, "//") {
		return KindICS, s
	}
	return k, rest
}

// shorten shows an entry in an error, without a feed's secret address and
// at most 120 characters long.
func shorten(entry string) string {
	out := redactEntry(entry)
	const limit = 120
	if r := []rune(out); len(r) > limit {
		out = string(r[:limit-1]) + "…"
	}
	return out
}

// redactEntry is an entry of TOWNHALL_CALENDAR_SOURCES with its feed's
// address shortened to scheme and host (see redactTarget).
func redactEntry(entry string) string {
	target, channels, hasChannels := strings.TrimSpace(entry), "", false
	if i := strings.LastIndex(target, "="); i >= 0 {
		target, channels, hasChannels = target[:i], target[i+1:], true
	}
	prefix := ""
	if k, rest, ok := strings.Cut(target, ":"); ok && (strings.EqualFold(strings.TrimSpace(k), KindICS) || strings.EqualFold(strings.TrimSpace(k), KindGoogle)) {
		prefix, target = k+":", rest
	}
	out := prefix + redactTarget(target)
	if hasChannels {
		out += "=" + channels
	}
	return out
}
