package archive

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
)

// Deps are the capabilities the archive uses.
type Deps struct {
	// Archive is where messages are kept (required): sqlitearchive.Open on
	// TOWNHALL_DATABASE_PATH.
	Archive Archive
	// API is the bot-token Web API client (required): rt.API().
	API *slack.Client
	// IsStaff says who may remove any message (the runtime's IsStaff);
	// nil: only authors may.
	IsStaff func(ctx context.Context, user string) (bool, error)
	// WaitConnection blocks until a Socket Mode connection later than the
	// seen'th is open and returns its number (the runtime's
	// WaitConnection): Run catches up once per connection, so after every
	// reconnect. nil: Run catches up once.
	WaitConnection func(ctx context.Context, seen uint64) (uint64, error)
	// Lease lets one replica at a time catch up when several share the
	// database (the store's claims); nil: no lease, for one process.
	Lease Lease
	// Logger receives the integration's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the community's time zone (TOWNHALL_TIMEZONE), for
	// dates in status; nil means UTC.
	Location *time.Location
	// Registerer receives the archive's metrics; nil exports none.
	Registerer prometheus.Registerer
}

// Integration is the archive integration. It is safe for concurrent use.
type Integration struct {
	cfg  Config
	a    Archive
	api  *slack.Client
	d    Deps
	log  *slog.Logger
	now  func() time.Time
	loc  *time.Location
	m    *metrics
	pace *slackapp.Pacer
	keep *keeper // nil unless TOWNHALL_ARCHIVE_FILES

	catchingUp sync.Mutex
	exporting  sync.Mutex // held while /townhall archive export runs
	publicMu   sync.Mutex
	public     map[string]bool // channel ID → public, from conversations.info
	usersMu    sync.Mutex
	users      map[string]bool // user IDs known to be in the archive
}

var (
	_ integrations.Integration  = (*Integration)(nil)
	_ integrations.Subcommander = (*Integration)(nil)
	_ integrations.Reporter     = (*Integration)(nil)
)

// New checks cfg and builds the integration.
func New(cfg Config, d Deps) (*Integration, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if d.Archive == nil || d.API == nil {
		return nil, fmt.Errorf("%s: Deps.Archive and Deps.API are required", Name)
	}
	i := &Integration{
		cfg: cfg, a: d.Archive, api: d.API, d: d,
		log: d.Logger, now: d.Now, loc: d.Location,
		public: make(map[string]bool),
		users:  make(map[string]bool),
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	i.log = i.log.With("integration", Name)
	if i.now == nil {
		i.now = time.Now
	}
	if i.loc == nil {
		i.loc = time.UTC
	}
	i.pace = &slackapp.Pacer{Every: cfg.APIPace, Now: i.now}
	var err error
	if i.m, err = newMetrics(d.Registerer); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if cfg.Files {
		if i.keep, err = newKeeper(cfg, d.Archive, d.API, i.pace, i.log, i.now); err != nil { // files_keep.go
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
	}
	return i, nil
}

// Name implements integrations.Integration.
func (i *Integration) Name() string { return Name }

// The shortcut's callback ID, as declared in manifest.yaml.
const RemoveCallbackID = "archive_remove"

// Handlers implements integrations.Integration: the events captured and
// the "Remove from archive" message shortcut.
func (i *Integration) Handlers() slackapp.Handlers {
	h := slackapp.HandlerFunc(i.event)
	var events []slackapp.Event
	for _, t := range CapturedEvents {
		events = append(events, slackapp.Event{Type: t, Handler: h})
	}
	return slackapp.Handlers{
		Events: events,
		Shortcuts: []slackapp.Shortcut{{
			CallbackID: RemoveCallbackID,
			Summary:    "Remove from archive: take one of your messages off the public archive",
			Handler:    slackapp.HandlerFunc(i.remove),
		}},
	}
}

// CapturedEvents are the Events API events the archive subscribes to
// (manifest.yaml's bot_events).
var CapturedEvents = []string{"message", "channel_rename", "channel_archive", "channel_unarchive", "channel_created", "user_change"}

// Jobs implements integrations.Integration: the periodic catch-up and,
// when configured, the backup.
func (i *Integration) Jobs() []scheduler.Job {
	var jobs []scheduler.Job
	if i.cfg.CatchUpSchedule != "" {
		jobs = append(jobs, scheduler.Job{Name: "archive.catchup", Spec: i.cfg.CatchUpSchedule,
			Run: func(ctx context.Context, _ time.Time) error { return i.CatchUp(ctx) }})
	}
	if i.cfg.BackupSchedule != "" {
		jobs = append(jobs, scheduler.Job{Name: "archive.backup", Spec: i.cfg.BackupSchedule,
			Run: func(ctx context.Context, at time.Time) error {
				_, err := Backup(ctx, i.a, i.cfg.BackupDir, i.cfg.BackupKeep, at)
				return err
			}})
	}
	return jobs
}

// Run catches up when the Slack connection opens and again after every
// reconnect, until ctx is done. A reconnect during a catch-up is not
// missed: the next catch-up starts when this one ends. The caller owns it:
// start it in a goroutine next to the runtime's Run and wait for it to
// return.
func (i *Integration) Run(ctx context.Context) error {
	if i.keep != nil { // the files captured live are kept by this worker until ctx is done
		var wg sync.WaitGroup
		wctx, cancel := context.WithCancel(ctx)
		wg.Go(func() { i.keep.work(wctx) })
		defer wg.Wait()
		defer cancel()
	}
	if i.d.WaitConnection == nil {
		i.catchUpLogged(ctx)
		if i.keep != nil {
			<-ctx.Done()
		}
		return nil
	}
	var n uint64
	for {
		var err error
		if n, err = i.d.WaitConnection(ctx, n); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("archive: wait for the Slack connection: %w", err)
		}
		i.catchUpLogged(ctx)
	}
}

// catchUpLogged catches up, logging a failure: the next connection or the
// catch-up job tries again.
func (i *Integration) catchUpLogged(ctx context.Context) {
	if err := i.CatchUp(ctx); err != nil && ctx.Err() == nil {
		i.log.Warn("archive catch-up failed", "error", err)
	}
}

type metrics struct {
	captured *prometheus.CounterVec
	dropped  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		captured: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "townhall", Subsystem: "archive", Name: "messages_stored_total",
			Help: "Messages stored in the archive, by source (live, catchup).",
		}, []string{"source"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "townhall", Subsystem: "archive", Name: "private_messages_dropped_total",
			Help: "Messages from private channels, group DMs or DMs seen and not stored.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.captured, m.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register metrics: %w", err)
			}
		}
	}
	return m, nil
}
