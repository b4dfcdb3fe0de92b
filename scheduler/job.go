package scheduler

import (
	"context"
	"time"
)

// Job is a named unit of periodic work. Name must be unique across the
// process and stable across releases: it keys the job's run history in the
// store, so renaming a job loses its history.
type Job struct {
	Name string // "calendar.reminders"
	Spec string // a robfig/cron spec: "*/1 * * * *", "@every 5m", "0 7 * * MON"
	// Run does the work of the occurrence due at 'at' (not time.Now()).
	// ctx is cancelled at shutdown. A returned error is logged, counted and
	// shown in status; the occurrence is still marked done (the job owns
	// its own retries of what failed).
	Run func(ctx context.Context, at time.Time) error
}
