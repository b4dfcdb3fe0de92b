package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/pgarchive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/archive/web"
	"github.com/townhall/townhall/integrations/calendar"
	"github.com/townhall/townhall/integrations/calls"
	"github.com/townhall/townhall/integrations/digest"
	"github.com/townhall/townhall/integrations/feeds"
	"github.com/townhall/townhall/integrations/translate"
	"github.com/townhall/townhall/scheduler"
	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/store"
	"github.com/townhall/townhall/store/postgres"
	"github.com/townhall/townhall/store/sqlite"
)

// app is townhall wired together: the Slack runtime, the scheduler, the
// store, and the enabled integrations served by the host.
type app struct {
	cfg   config
	log   *slog.Logger
	reg   *prometheus.Registry
	store *store.Store
	rt    *slackapp.Runtime
	sched *scheduler.Scheduler
	host  *integrations.Host
	self  store.Replica // this process, as its heartbeat row shows it
	now   func() time.Time

	runners    []integrations.Runner  // long-lived work of the enabled integrations
	translator *translate.Integration // when translation is on: feeds' and digests' translations
	archive    archiveDB              // the archive's tables, when it is on
	web        http.Handler           // the public web archive, when it has an address

	addrMu sync.Mutex
	addrs  map[string]string // variable → the address its listener is bound to
}

// deps are what the environment provides; tests substitute them.
type deps struct {
	Logger     *slog.Logger
	HTTPClient *http.Client
	Now        func() time.Time
	Rand       io.Reader // randomness for call rooms; nil: crypto/rand
}

// newApp builds the app from a validated config. It opens the store; the
// caller must call run (which closes it) or close.
func newApp(ctx context.Context, cfg config, d deps) (_ *app, err error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Claims record this replica as their owner, so that when it dies
	// another replica (or, with SQLite, the restarted process) takes its
	// unconfirmed ones once its heartbeat is TOWNHALL_REPLICA_TIMEOUT
	// old, instead of waiting out their leases.
	self := newSelf(d.Now())
	st, err := openStore(ctx, cfg.Store, store.WithClock(d.Now), store.WithOwner(self.ID, cfg.Store.ReplicaDeadAfter()))
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: d.Logger, reg: reg, store: st, self: self, now: d.Now}
	defer func() {
		if err != nil {
			a.close()
		}
	}()

	a.sched, err = scheduler.New(cfg.Scheduler, st, scheduler.Options{
		Logger: d.Logger.With("component", "scheduler"), Now: d.Now, Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	if err := a.sched.Add(a.purgeJob(d.Now)); err != nil {
		return nil, err
	}
	rtOpts := slackapp.Options{
		Logger:     d.Logger.With("component", "slack"),
		Registerer: reg,
		HTTPClient: d.HTTPClient,
		Unrouted: slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
			return a.host.Unrouted(ctx, r)
		}),
	}
	if cfg.Store.Postgres() {
		// Replicas share the database: a redelivery reaching another
		// replica's connection is dropped there (SQLite is one process,
		// whose in-memory dedup suffices).
		rtOpts.Deduper = st
		// And a replica that dies leaves what it acknowledged and did
		// not answer in the journal, for the others to replay.
		rtOpts.Journal = replicaJournal{st: st, self: a.self.ID, deadAfter: cfg.Store.ReplicaDeadAfter()}
		rtOpts.ReplayInterval = beatEvery(cfg.Store.ReplicaDeadAfter())
	}
	a.rt, err = slackapp.New(cfg.Slack, rtOpts)
	if err != nil {
		return nil, err
	}
	a.host = integrations.NewHost(a.rt, a.sched, integrations.HostOptions{
		Logger: d.Logger, Now: d.Now, Location: cfg.Scheduler.Location(),
		Replicas: func(ctx context.Context, when func(time.Time) string) []string {
			return replicaLines(ctx, a.store, a.self.ID, when)
		},
	})
	if err := a.addIntegrations(d); err != nil {
		return nil, err
	}
	alerts, err := integrations.NewAlerter(cfg.Alerts, integrations.AlertDeps{
		Health: a.host.Health, Poster: a.rt.Poster(), Claims: st, Settings: st,
		Staff: a.rt.StaffUsers, ResolveChannel: a.rt.ResolveChannel,
		Logger: d.Logger.With("component", "alerts"), Location: cfg.Scheduler.Location(),
	})
	if err != nil {
		return nil, err
	}
	if err := a.sched.Add(alerts.Job()); err != nil {
		return nil, err
	}
	if err := a.host.Start(); err != nil {
		return nil, err
	}
	return a, nil
}

// addIntegrations builds the enabled integrations, in the order status
// lists them. This list is the one place an integration is wired in.
func (a *app) addIntegrations(d deps) error {
	loc := a.cfg.Scheduler.Location()
	logger := func(name string) *slog.Logger { return d.Logger.With("integration", name) }
	// Feed items and calendar digests carry translations through the
	// translate integration, built after them (integrations never import
	// one another): they get its TranslationReply as a function.
	var translateReply func(ctx context.Context, text string, languages []string) (slackapp.Message, bool, error)
	if a.cfg.Translate.Enabled {
		translateReply = func(ctx context.Context, text string, languages []string) (slackapp.Message, bool, error) {
			return a.translator.TranslationReply(ctx, text, languages)
		}
	}
	wired := []struct {
		name    string
		enabled bool
		build   func() (integrations.Integration, error)
	}{
		{calls.Name, a.cfg.Calls.Enabled, func() (integrations.Integration, error) {
			return calls.New(a.cfg.Calls, calls.Deps{
				HTTPClient: d.HTTPClient, Logger: logger(calls.Name), Now: d.Now, Rand: d.Rand,
			})
		}},
		{calendar.Name, a.cfg.Calendar.Enabled, func() (integrations.Integration, error) {
			return calendar.New(a.cfg.Calendar, calendar.Deps{
				Poster: a.rt.Poster(), Claims: a.store, Cursors: a.store, Settings: a.store, Updater: a.rt.Poster(),
				ResolveChannel: a.rt.ResolveChannel, HTTPClient: d.HTTPClient, Logger: logger(calendar.Name), Now: d.Now,
				Location: loc, Registerer: a.reg, Translate: translateReply,
			})
		}},
		{feeds.Name, a.cfg.Feeds.Enabled, func() (integrations.Integration, error) {
			return feeds.New(a.cfg.Feeds, feeds.Deps{
				Poster: a.rt.Poster(), Claims: a.store, Cursors: a.store, Settings: a.store,
				IsStaff: a.rt.IsStaff, ResolveChannel: a.rt.ResolveChannel, HTTPClient: d.HTTPClient,
				Logger: logger(feeds.Name), Now: d.Now, Location: loc, Registerer: a.reg, Translate: translateReply,
			})
		}},
		{translate.Name, a.cfg.Translate.Enabled, func() (integrations.Integration, error) {
			t, err := translate.New(a.cfg.Translate, translate.Deps{
				Poster: a.rt.Poster(), API: a.rt.API(), Claims: a.store, Cache: a.store, Settings: a.store,
				HTTPClient: d.HTTPClient, Logger: logger(translate.Name), Registerer: a.reg,
				IsStaff: a.rt.IsStaff, Now: d.Now,
			})
			a.translator = t
			return t, err
		}},
		{archive.Name, a.cfg.Archive.Enabled, func() (integrations.Integration, error) {
			return a.newArchive(d, logger(archive.Name))
		}},
		{digest.Name, a.cfg.Digest.Enabled, func() (integrations.Integration, error) {
			return a.newDigest(d, logger(digest.Name)) // after the archive: it reads it when it is on
		}},
	}
	for _, w := range wired {
		if !w.enabled {
			a.host.Disabled(w.name)
			continue
		}
		in, err := w.build()
		if err != nil {
			return err // each constructor names its integration
		}
		if err := a.host.Add(in); err != nil {
			return err
		}
		if r, ok := in.(integrations.Runner); ok {
			a.runners = append(a.runners, r)
		}
	}
	return nil
}

// openStore opens the database the configuration selects: PostgreSQL when
// TOWNHALL_DATABASE_URL is set, else the SQLite file.
func openStore(ctx context.Context, c store.Config, opts ...store.Option) (*store.Store, error) {
	if c.Postgres() {
		st, err := postgres.OpenStore(ctx, string(c.DatabaseURL), opts...)
		if err != nil {
			return nil, fmt.Errorf("TOWNHALL_DATABASE_URL: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.OpenStore(ctx, c.DatabasePath, opts...)
	if err != nil {
		return nil, fmt.Errorf("TOWNHALL_DATABASE_PATH=%s: %w", c.DatabasePath, err)
	}
	return st, nil
}

// archiveDB is an archive with the database it holds open: sqlitearchive's
// or pgarchive's.
type archiveDB interface {
	archive.Archive
	Close() error
}

// openArchive opens the archive's tables in the store's database: in
// PostgreSQL when TOWNHALL_DATABASE_URL is set (migrated under their own
// advisory lock, so replicas starting together migrate once), else in the
// SQLite file. Errors name the variable and never carry the password.
func openArchive(ctx context.Context, c store.Config) (archiveDB, error) {
	if c.Postgres() {
		ar, err := pgarchive.Open(ctx, string(c.DatabaseURL))
		if err != nil {
			return nil, fmt.Errorf("TOWNHALL_DATABASE_URL: %w", err)
		}
		return ar, nil
	}
	ar, err := sqlitearchive.Open(ctx, c.DatabasePath)
	if err != nil {
		return nil, fmt.Errorf("TOWNHALL_DATABASE_PATH=%s: %w", c.DatabasePath, err)
	}
	return ar, nil
}

// openArchiveReadOnly opens the archive the configuration selects for
// reading only (townhall archive search, export and serve): nothing is
// migrated and every write fails.
func openArchiveReadOnly(ctx context.Context, c store.Config) (archiveDB, error) {
	if c.Postgres() {
		ar, err := pgarchive.OpenReadOnly(ctx, string(c.DatabaseURL))
		if err != nil {
			return nil, fmt.Errorf("TOWNHALL_DATABASE_URL: %w", err)
		}
		return ar, nil
	}
	ar, err := sqlitearchive.OpenReadOnly(ctx, c.DatabasePath)
	if err != nil {
		return nil, fmt.Errorf("TOWNHALL_DATABASE_PATH=%s: %w", c.DatabasePath, err)
	}
	return ar, nil
}

// archiveBackend says where the archive is kept, for `townhall check`.
func archiveBackend(c store.Config) string {
	if c.Postgres() {
		return "PostgreSQL, tables archive_* beside the store's in " + c.DatabaseURL.String()
	}
	return "SQLite, tables archive_* in " + c.DatabasePath
}

// newArchive opens the archive's tables (in the store's database) and
// builds the integration and, when it has an address, the web archive.
func (a *app) newArchive(d deps, logger *slog.Logger) (integrations.Integration, error) {
	ar, err := openArchive(context.Background(), a.cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archive.Name, err)
	}
	a.archive = ar
	loc := a.cfg.Scheduler.Location()
	if a.cfg.Archive.Addr != "" {
		a.web, err = web.New(a.cfg.Archive, ar, web.Options{Location: loc, Now: d.Now, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("%s: web: %w", archive.Name, err)
		}
	}
	return archive.New(a.cfg.Archive, archive.Deps{
		Archive: ar, API: a.rt.API(), IsStaff: a.rt.IsStaff, WaitConnection: a.rt.WaitConnection, Lease: a.store,
		Logger: logger, Now: d.Now, Location: loc, Registerer: a.reg,
	})
}

// claimRetention is how long a confirmed claim ("this reminder was posted")
// is kept. It must exceed every catch-up window: a purged claim could be
// claimed, and posted, again.
const claimRetention = 30 * 24 * time.Hour

// purgeJob drops confirmed claims past their retention and expired cache
// entries, daily, so the database does not grow without bound.
func (a *app) purgeJob(now func() time.Time) scheduler.Job {
	return scheduler.Job{
		Name: "store.purge",
		Spec: "@daily",
		Run: func(ctx context.Context, _ time.Time) error {
			claims, err := a.store.PurgeClaims(ctx, now().Add(-claimRetention))
			if err != nil {
				return err
			}
			cached, err := a.store.PurgeCache(ctx)
			if err != nil {
				return err
			}
			replicas, err := a.store.PurgeReplicas(ctx, now().Add(-replicaRetention))
			if err != nil {
				return err
			}
			a.log.Info("store purged", "claims", claims, "cache_entries", cached, "replicas", replicas)
			return nil
		},
	}
}

// run serves until ctx is cancelled, then shuts down in order: stop taking
// Slack envelopes and drain handlers, stop the runners and the scheduler,
// close the listeners, close the databases.
func (a *app) run(ctx context.Context) error {
	defer a.close()

	var servers []*http.Server
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Slack.ShutdownTimeout)
		defer cancel()
		for _, srv := range servers {
			_ = srv.Shutdown(stopCtx)
		}
	}()
	for _, l := range a.listeners() {
		srv, err := a.serveHTTP(l)
		if err != nil {
			return err
		}
		servers = append(servers, srv)
	}

	if err := a.sched.Start(ctx); err != nil {
		return err
	}
	runCtx, stopRunners := context.WithCancel(ctx)
	var runners sync.WaitGroup
	hb := &heartbeat{st: a.store, rt: a.rt, log: a.log.With("component", "replicas"), self: a.self,
		every: heartbeatInterval, now: a.now}
	if a.cfg.Store.Postgres() {
		// Others replay this replica's journal once its heartbeat is
		// TOWNHALL_REPLICA_TIMEOUT old: beat well within it.
		hb.every, hb.journal = beatEvery(a.cfg.Store.ReplicaDeadAfter()), a.store
	}
	if err := hb.beat(ctx); err != nil { // status lists this replica from the start
		a.log.Warn("replica heartbeat not written; retrying", "error", err)
	}
	runners.Go(func() { hb.run(runCtx) })
	for _, r := range a.runners {
		runners.Go(func() {
			if err := r.Run(runCtx); err != nil {
				a.log.Error("integration stopped", "error", err)
			}
		})
	}
	runErr := a.rt.Run(ctx)
	stopRunners()
	runners.Wait()

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Slack.ShutdownTimeout)
	defer cancel()
	if err := a.sched.Stop(stopCtx); err != nil {
		a.log.Warn("scheduler stop", "error", err)
	}
	a.log.Info("townhall stopped")
	return runErr
}

type listener struct {
	variable, addr string
	handler        http.Handler
	// public listeners (the web archive) bound their clients: nil for
	// the operations listener's plain server.
	server func(http.Handler) *http.Server
	limit  func(net.Listener) net.Listener
}

// listeners are the HTTP endpoints configured: operations (health and
// metrics) and the public web archive, never on the same address.
func (a *app) listeners() []listener {
	var ls []listener
	if a.cfg.Ops.HTTPAddr != "" {
		ls = append(ls, listener{variable: "TOWNHALL_HTTP_ADDR", addr: a.cfg.Ops.HTTPAddr, handler: a.httpHandler()})
	}
	if a.web != nil {
		ls = append(ls, listener{variable: "TOWNHALL_ARCHIVE_ADDR", addr: a.cfg.Archive.Addr, handler: a.web,
			server: func(h http.Handler) *http.Server { return web.NewServer(a.cfg.Archive, h) },
			limit:  func(ln net.Listener) net.Listener { return web.LimitListener(a.cfg.Archive, ln) }})
	}
	return ls
}

// serveHTTP listens on l's address (so a taken port fails start-up, naming
// the variable) and serves its handler in the background until shutdown.
func (a *app) serveHTTP(l listener) (*http.Server, error) {
	variable := l.variable
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", variable, l.addr, err)
	}
	srv := &http.Server{Handler: l.handler, ReadHeaderTimeout: 5 * time.Second}
	if l.server != nil {
		srv = l.server(l.handler)
	}
	if l.limit != nil {
		ln = l.limit(ln)
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http listener stopped", "variable", variable, "error", err)
		}
	}()
	a.addrMu.Lock()
	if a.addrs == nil {
		a.addrs = make(map[string]string)
	}
	a.addrs[variable] = ln.Addr().String()
	a.addrMu.Unlock()
	a.log.Info("http listener", "variable", variable, "addr", ln.Addr().String())
	return srv, nil
}

// boundAddr is the address the listener configured by variable
// (TOWNHALL_ARCHIVE_ADDR, TOWNHALL_HTTP_ADDR) is bound to, once run has
// opened it (by the time the runtime connects): the port chosen for ":0".
// It is "" for a listener that is not configured or not open yet.
func (a *app) boundAddr(variable string) string {
	a.addrMu.Lock()
	defer a.addrMu.Unlock()
	return a.addrs[variable]
}

// close releases what newApp opened; run calls it on its way out.
func (a *app) close() error {
	var errs []error
	if a.archive != nil {
		errs = append(errs, a.archive.Close())
	}
	return errors.Join(append(errs, a.store.Close())...)
}

// httpHandler serves /healthz, /readyz and /metrics.
func (a *app) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !a.rt.Connected() {
			http.Error(w, "not connected to Slack", http.StatusServiceUnavailable)
			return
		}
		if err := a.store.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	return mux
}
