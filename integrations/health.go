package integrations

import (
	"context"
	"sort"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// Health is one thing an integration depends on (a feed, a calendar, a
// provider), as the staff alerts see it.
type Health struct {
	// Key names it for good, across restarts and replicas: "feeds:f3",
	// "calendar:ics:https://…" (never a secret).
	Key string
	// What says what it is, in mrkdwn, escaped: "The feed *Example*
	// (https://example.org/…) for #news".
	What string
	// FailingSince is when it began to fail; zero while it works.
	FailingSince time.Time
	// Unknown says it was not tried yet (since a restart): neither
	// failing nor working.
	Unknown bool
	// LastError is the latest failure, as said to staff (never a token).
	LastError string
	// Fix says what staff can do about it, in mrkdwn.
	Fix string
}

// A Checker is an integration whose dependencies can fail for a while
// without any one request failing: it says how each is doing. The host
// asks it for staff alerts; an integration that is not a Checker is
// watched through its scheduled jobs.
type Checker interface {
	Health(ctx context.Context) []Health
}

// Health is the health of everything the enabled integrations depend on:
// what each Checker reports, and for the others, each of their jobs (a
// job failing since its last success, such as the archive's backup or
// catch-up).
func (h *Host) Health(ctx context.Context) []Health {
	var out []Health
	jobs := map[string]bool{}
	for _, st := range h.states {
		if c, ok := st.in.(Checker); ok {
			out = append(out, c.Health(ctx)...)
			continue
		}
		for _, j := range st.jobs {
			jobs[j] = true
		}
	}
	for _, js := range h.sched.Status() {
		if !jobs[js.Name] {
			continue
		}
		out = append(out, Health{
			Key:          "job:" + js.Name,
			What:         "The scheduled job `" + slackapp.Escape(js.Name) + "`",
			FailingSince: js.FailingSince,
			Unknown:      js.LastRun.IsZero(),
			LastError:    js.LastError,
			Fix:          jobFix(js.Name),
		})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out
}

// jobFix is what to do about a failing job.
func jobFix(name string) string {
	switch name {
	case "archive.backup":
		return "Check that `TOWNHALL_ARCHIVE_BACKUP_DIR` exists, is writable by townhall and has room; `/townhall status` shows the job."
	case "archive.catchup":
		return "Check that the bot is still in the channels and its token valid (`/townhall status`); messages Slack still shows are caught up once it works again."
	}
	return "`/townhall status` shows the job and its last error; the logs say more."
}
