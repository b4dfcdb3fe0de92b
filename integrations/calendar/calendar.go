// Package calendar brings a community's calendars into Slack: reminders
// posted to mapped channels at configured offsets before each event, a
// digest (an agenda until the next digest) on a cron spec, and "/events",
// an ephemeral list of what is coming up. Calendars are public or secret
// iCal feeds (calendar/ics, tested against calendar/icstest) and Google
// calendars through the Calendar API v3 (calendar/gcal, tested against
// calendar/gcaltest).
//
// Each reminder is claimed in the store under (calendar, event instance,
// start, offset, channel) before it is posted and confirmed after, so a
// restart, a retry or a second replica never posts it twice; a reminder
// that fell due while the app was down is posted late, saying so, as long
// as the event has not started. A moved event is reminded at its new time
// (its start is part of the key), a cancelled one not at all, and a
// calendar that cannot be fetched keeps its last good events, is retried
// with backoff and shows in /townhall status. Channels are given by ID or
// by #name; names are looked up through the runtime (Deps.ResolveChannel)
// when first needed, and one that matches no channel shows in status
// without holding up the others.
//
// It imports integrations, slackapp, scheduler, store and its own
// subpackages; it must never import another integration or cmd/townhall.
package calendar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/calendar/gcal"
	"github.com/townhall/townhall/integrations/calendar/ics"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
)

// Name is the integration's name in configuration, logs and status.
const Name = "calendar"

// Command is the slash command the integration answers.
const Command = "/events"

// Job names.
const (
	RemindJob = "calendar.reminders"
	DigestJob = "calendar.digest"
)

// remindSpec runs the reminder job every minute; each run refreshes the
// calendars that are due for it.
const remindSpec = "@every 1m"

// Poster posts a message to a channel; *slackapp.Poster is one. Its error
// is checked with slackapp.Permanent.
type Poster interface {
	Post(ctx context.Context, channel string, m slackapp.Message) (string, error)
}

// Deps are the capabilities the integration uses. Poster and Claims are
// required; every other field may be left zero.
type Deps struct {
	Poster Poster
	// Claims make each reminder and digest happen once.
	Claims store.Claims
	// Cursors remember when each calendar was first seen, so reminders
	// that fell due before it was configured are not caught up (a new
	// install would otherwise post a day of late reminders). nil: every
	// reminder within TOWNHALL_CALENDAR_CATCH_UP is caught up.
	Cursors store.Cursors
	// HTTPClient fetches ICS feeds; nil means a client with a 30-second
	// timeout. (The Google client makes its own, with its credentials.)
	HTTPClient *http.Client
	// Logger receives the integration's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the community's time zone (TOWNHALL_TIMEZONE): day
	// boundaries, fallback text, floating and all-day times. nil means UTC.
	Location *time.Location
	// Registerer receives the integration's metrics; nil registers none.
	Registerer prometheus.Registerer
	// ResolveChannel turns a "#name" of TOWNHALL_CALENDAR_SOURCES into a
	// channel ID (the runtime's ResolveChannel), at the name's first use;
	// its errors matching slackapp.ErrUnknownChannel mean no such channel.
	// Required when a source names a channel by name; nil otherwise.
	ResolveChannel func(ctx context.Context, ref string) (string, error)
	// Settings keep members' RSVP answers; nil: no RSVP buttons.
	Settings store.Settings
	// Updater rewrites a reminder's RSVP tally when someone answers on
	// it (the runtime's Poster); nil leaves the tally as posted, and
	// the member who answered still sees the new one.
	Updater Updater
}

// Integration is the calendar integration. It is safe for concurrent use.
type Integration struct {
	cfg      Config
	offsets  []time.Duration
	digest   cron.Schedule
	sources  []*sourceState
	channels *channelMap
	poster   Poster
	claims   store.Claims
	cursors  store.Cursors
	settings store.Settings
	updater  Updater
	log      *slog.Logger
	now      func() time.Time
	clock    clock
	m        *metrics

	digestMu sync.Mutex // one digest at a time
}

var (
	_ integrations.Integration = (*Integration)(nil)
	_ integrations.Reporter    = (*Integration)(nil)
)

// New checks cfg (whether or not it is enabled) and builds the
// integration. Nothing is fetched until the first job run or /events.
func New(cfg Config, deps Deps) (*Integration, error) {
	p, err := cfg.parse()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if deps.Poster == nil || deps.Claims == nil {
		return nil, fmt.Errorf("%s: Deps.Poster and Deps.Claims are required", Name)
	}
	if deps.ResolveChannel == nil {
		for _, src := range p.sources {
			if n := slices.IndexFunc(src.Channels, isName); n >= 0 {
				return nil, fmt.Errorf("%s: TOWNHALL_CALENDAR_SOURCES names channel %s by name, which needs Deps.ResolveChannel", Name, src.Channels[n])
			}
		}
	}
	i := &Integration{
		cfg: cfg, offsets: p.offsets, digest: p.digest,
		poster: deps.Poster, claims: deps.Claims, cursors: deps.Cursors, settings: deps.Settings, updater: deps.Updater,
		log: deps.Logger, now: deps.Now,
		clock: clock{loc: deps.Location},
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	i.log = i.log.With("integration", Name)
	i.channels = newChannelMap(deps.ResolveChannel, i.log)
	if i.now == nil {
		i.now = time.Now
	}
	if i.clock.loc == nil {
		i.clock.loc = time.UTC
	}
	if i.m, err = newMetrics(deps.Registerer); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	var google *gcal.Client
	for _, src := range p.sources {
		st := &sourceState{Source: src}
		switch src.Kind {
		case KindICS:
			c, err := ics.NewClient(src.Target, deps.HTTPClient, i.clock.loc)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", Name, src.Label(), err)
			}
			st.f = &icsFetcher{key: src.Key(), client: c}
		case KindGoogle:
			if google == nil {
				// The Google client keeps this context for its token
				// source, so it must outlive New.
				google, err = gcal.New(context.Background(), gcal.Config{
					APIKey: cfg.GoogleAPIKey, CredentialsFile: cfg.GoogleCredentialsFile,
					Endpoint: cfg.GoogleEndpoint, Floating: i.clock.loc,
				})
				if err != nil {
					return nil, fmt.Errorf("%s: %w", Name, err)
				}
			}
			st.f = &googleFetcher{key: src.Key(), id: src.Target, client: google}
		}
		i.sources = append(i.sources, st)
	}
	return i, nil
}

// Name returns "calendar".
func (i *Integration) Name() string { return Name }

// Handlers returns /events, its More button, and no-op handlers for the
// link buttons (Slack reports their clicks too; the runtime acks them).
func (i *Integration) Handlers() slackapp.Handlers {
	noop := slackapp.HandlerFunc(func(context.Context, *slackapp.Request) error { return nil })
	return slackapp.Handlers{
		Commands: []slackapp.Command{{
			Name:    Command,
			Usage:   "[today | tomorrow | week | <days> | mine]",
			Summary: "See upcoming community events (only you see the answer)",
			Handler: slackapp.HandlerFunc(i.handleEvents),
		}},
		Actions: []slackapp.Action{
			{ActionID: MoreActionID, Handler: slackapp.HandlerFunc(i.handleMore)},
			{ActionID: JoinActionID, Handler: noop},
			{ActionID: DetailsActionID, Handler: noop},
			{ActionID: RSVPGoingActionID, Handler: slackapp.HandlerFunc(i.handleRSVP)},
			{ActionID: RSVPMaybeActionID, Handler: slackapp.HandlerFunc(i.handleRSVP)},
			{ActionID: RSVPNoActionID, Handler: slackapp.HandlerFunc(i.handleRSVP)},
			{ActionID: RSVPWhoActionID, Handler: slackapp.HandlerFunc(i.handleRSVP)},
			{ActionID: RSVPOpenActionID, Handler: slackapp.HandlerFunc(i.handleRSVP)},
		},
	}
}

// Jobs returns the reminder job (every minute) and, when
// TOWNHALL_CALENDAR_DIGEST is set, the digest job.
func (i *Integration) Jobs() []scheduler.Job {
	jobs := []scheduler.Job{{Name: RemindJob, Spec: remindSpec, Run: i.remind}}
	if i.digest != nil {
		jobs = append(jobs, scheduler.Job{Name: DigestJob, Spec: strings.TrimSpace(i.cfg.Digest), Run: i.postDigest})
	}
	return jobs
}

// refresh fetches every source that is due, concurrently, and returns
// their errors joined. Sources that fail keep their last good events; a
// source whose fetch is already in flight is not waited for.
func (i *Integration) refresh(ctx context.Context) error {
	errs := make([]error, len(i.sources))
	var wg sync.WaitGroup
	for n, s := range i.sources {
		wg.Go(func() { errs[n] = i.refreshSource(ctx, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// refreshSource fetches one source if it is due and no fetch of it is in
// flight, within fetchTimeout, and logs and counts the outcome.
func (i *Integration) refreshSource(ctx context.Context, s *sourceState) error {
	warnings, fetched, err := s.refresh(ctx, i.now(), i.cfg.PollInterval, i.cfg.Lookahead)
	if !fetched {
		return nil
	}
	if len(warnings) > 0 {
		i.log.WarnContext(ctx, "calendar feed has parts that cannot be read; they are skipped", "source", s.Label(),
			"count", len(warnings), "first", warnings[:min(len(warnings), 3)])
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
		i.log.WarnContext(ctx, "calendar fetch failed; keeping its last good events", "source", s.Label(), "error", err)
	}
	i.m.fetches.WithLabelValues(s.Kind, outcome).Inc()
	return err
}

// eventsFor returns the events of the sources mapped to channel (a
// channel ID; all sources when channel is "") overlapping [from, to),
// sorted by start.
func (i *Integration) eventsFor(ctx context.Context, channel string, from, to time.Time) []Event {
	var out []Event
	for _, s := range i.sources {
		if channel == "" || slices.Contains(i.channels.ids(ctx, s.Channels), channel) {
			out = append(out, s.f.events(from, to)...)
		}
	}
	slices.SortStableFunc(out, func(a, b Event) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Title, b.Title)
	})
	return out
}

// Status describes each calendar for /townhall status.
func (i *Integration) Status(context.Context) []string {
	now := i.now()
	var lines []string
	for _, s := range i.sources {
		s.mu.Lock()
		ok, lastGood, lastErr, lastErrAt, failures, warnings := s.ok, s.lastGood, s.lastErr, s.lastErrAt, s.failures, s.warnings
		pausedUntil, pausedBy := s.pausedUntil, s.pausedBy
		s.mu.Unlock()
		where, unresolved := i.channelStatus(s.Channels)
		icon := "🟢"
		if failures > 0 || len(unresolved) > 0 {
			icon = "🟠"
		}
		if !ok && failures > 0 {
			icon = "🔴"
		}
		line := fmt.Sprintf("    %s %s `%s` → %s: ", icon, s.Kind, slackapp.Escape(s.Label()), where)
		if ok {
			n := len(s.f.events(now, now.Add(i.cfg.Lookahead)))
			line += fmt.Sprintf("%d upcoming event%s, last good fetch %s", n, pluralS(n), statusWhen(i.clock, lastGood))
		} else {
			line += "not fetched yet"
		}
		if warnings > 0 {
			line += fmt.Sprintf(", %d unreadable part%s of the feed skipped (see the logs)", warnings, pluralS(warnings))
		}
		if failures > 0 {
			line += fmt.Sprintf("\n        ⚠️ %d failed fetch%s, last %s: %s", failures, pluralES(failures), statusWhen(i.clock, lastErrAt), slackapp.Escape(oneLine(lastErr, 200)))
		}
		if pausedUntil.After(now) {
			line += fmt.Sprintf("\n        ⏸ paused until %s: the server answered %d and asked to wait (Retry-After)", statusWhen(i.clock, pausedUntil), pausedBy)
		}
		for _, u := range unresolved {
			line += "\n        ⚠️ " + slackapp.Escape(oneLine(u, 300)) + " (retried every minute; nothing is posted there meanwhile)"
		}
		lines = append(lines, line)
	}
	return lines
}

func statusWhen(c clock, t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), c.plain(t))
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// channelStatus lists a source's channels for status: a resolved channel
// as a link, a "#name" not resolved yet as written; unresolved holds the
// failure of each name whose last lookup failed.
func (i *Integration) channelStatus(refs []string) (where string, unresolved []string) {
	out := make([]string, len(refs))
	for n, ref := range refs {
		id, failure := i.channels.state(ref)
		switch {
		case id != "":
			out[n] = "<#" + id + ">"
		case failure != "":
			out[n] = slackapp.Escape(ref) + " ⚠️"
			unresolved = append(unresolved, failure)
		default:
			out[n] = slackapp.Escape(ref) + " (not looked up yet)"
		}
	}
	return strings.Join(out, ", "), unresolved
}
