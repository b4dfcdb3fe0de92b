// Package scheduler runs townhall's periodic jobs: named jobs with cron
// specs, evaluated in the community's time zone, each occurrence claimed in
// the store before it runs. Downtime is caught up, a crash repeats at most
// one run and skips none, and two processes sharing a store never run the
// same occurrence twice. A job never overlaps itself, a panic in a job is
// recovered and reported, and each job's last and next runs are kept for
// `/townhall status`.
//
// robfig/cron/v3 is used only to parse specs and to find a spec's next time;
// the Scheduler owns its loop.
//
// # Occurrences
//
// For each job the scheduler keeps a cursor in the store (see [State]): the
// last occurrence it ran, or for a job that has never run, the time the job
// was first added. When occurrences fall due after the cursor, the scheduler
// runs only the latest of them (the others are coalesced into it and the
// count is logged): a job receives the occurrence time 'at' and works out
// what it owes from its own state. Occurrences older than the catch-up window
// ([Options.CatchUp]) are skipped and counted in the log.
//
// A run is bracketed by the store: the scheduler takes a per-job lock and a
// claim on the occurrence, both leases ([Options.Lease]); after the run it
// moves the cursor to the occurrence, confirms the claim and releases the
// lock. A process killed mid-run leaves both leases to expire, after which
// the next process (whose cursor is still before the occurrence) runs it
// again; a store that knows its claims' owners (store.WithOwner) lets the
// next process take them as soon as the dead one's heartbeat is old, and
// the scheduler, which looks again every retry interval, then runs it. A run interrupted by [Scheduler.Stop] that returns an error gives
// its claim back, so the next start runs it again; the cursor never moves
// past an occurrence that did not run. An occurrence the store still refuses
// a lease after it first did, while the job's lock is free, was confirmed by
// a run whose cursor update failed: the cursor moves past it.
//
// # Time zones and daylight saving time
//
// Specs are evaluated in [Config.Timezone] unless they name their own zone
// with a "TZ=Area/City " or "CRON_TZ=Area/City " prefix. Jobs receive 'at' in
// that zone. Where clocks jump, the scheduler follows cron(8):
//
//   - A spec that runs every hour ("*/15 * * * *", "0 * * * *") follows real
//     time: wall-clock times that do not exist are not run, and an hour that
//     happens twice runs twice.
//   - A spec with fixed hours ("30 2 * * *", "@daily") runs once per
//     wall-clock day. When its time falls in the hour skipped in spring (in
//     Europe/Paris, 02:30 on the last Sunday of March does not exist), it runs
//     at the moment of the jump (03:00 CEST). When its time happens twice in
//     autumn (02:30 on the last Sunday of October), it runs at the first one
//     (02:30 CEST) only.
//
// robfig/cron alone would skip the spring run and repeat the autumn one.
//
// # Intervals
//
// "@every d" runs at fixed multiples of d counted from Go's zero time (so
// "@every 5m" runs at :00, :05, … and "@every 1h" on the hour, UTC), not at
// d after the process started: restarts and replicas agree on occurrence
// times, which is what lets claims deduplicate them. d must be at least one
// second and is rounded down to whole seconds.
//
// # Replicas
//
// Any number of processes may share one store. A job's runs are serialised
// by its lock, so Options.Lease must exceed the job's longest run (a run
// that outlasts it is logged). [Scheduler.RunNow] bypasses the store and
// only prevents overlap within its own process.
//
// # Imports
//
// This package imports nothing else from townhall: never slackapp, store,
// cmd or anything under integrations. The store satisfies [State] without
// this package knowing it, and integrations hand their [Job] values to the
// scheduler through the main package.
package scheduler
