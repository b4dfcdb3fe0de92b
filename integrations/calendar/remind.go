package calendar

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// claimLease is how long a reminder's claim holds before a crashed
// holder's reminder may be claimed again.
const claimLease = 10 * time.Minute

// lateAfter is how long after its time a reminder counts as late: the job
// runs every minute, so anything older was missed while the app was down.
const lateAfter = 5 * time.Minute

// startedGrace is how long after a timed event's start a reminder that
// fell due before it is still posted ("started 2 minutes ago", with its
// Join button): what a replica that died as it was posting it, or a short
// outage, delays. Later than that it is noise, and is skipped.
const startedGrace = 5 * time.Minute

// due is a reminder owed now.
type due struct {
	event  Event
	offset time.Duration
	at     time.Time // when it fell due
	skip   bool      // superseded by a later offset of the same event, due too
}

// remind is the reminder job: for each calendar, concurrently, refresh it
// if it is due, then post every reminder of it that is due and not yet
// posted. A slow calendar holds up only its own reminders (for at most
// fetchTimeout). The occurrence time is not used: what is owed depends on
// the clock and the claims alone.
func (i *Integration) remind(ctx context.Context, _ time.Time) error {
	errs := make([]error, len(i.sources))
	var wg sync.WaitGroup
	for n, s := range i.sources {
		wg.Go(func() { errs[n] = i.remindSource(ctx, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// remindSource is one calendar's part of the reminder job.
func (i *Integration) remindSource(ctx context.Context, s *sourceState) error {
	fetchErr := i.refreshSource(ctx, s)
	if len(i.offsets) == 0 {
		return fetchErr
	}
	now := i.now()
	since, err := i.since(ctx, s, now)
	if err != nil {
		return errors.Join(err, fetchErr)
	}
	errs := []error{fetchErr}
	// Events starting within the longest offset, and those with a
	// reminder in the catch-up window: both start after now, or began
	// within startedGrace.
	for _, d := range i.owed(s.f.events(now.Add(-startedGrace), now.Add(i.offsets[0]+time.Minute)), now) {
		if d.at.Before(since) {
			continue // due before this calendar was configured: nothing was missed
		}
		for _, ch := range i.channels.ids(ctx, s.Channels) {
			if err := i.post(ctx, s.Key(), ch, d, now); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// since returns when the source was first seen by a reminder run,
// recording now on its first run; the zero time without Deps.Cursors.
func (i *Integration) since(ctx context.Context, s *sourceState, now time.Time) (time.Time, error) {
	if i.cursors == nil {
		return time.Time{}, nil
	}
	name := "calendar/since/" + s.Key()
	v, ok, err := i.cursors.Cursor(ctx, name)
	if err != nil {
		return time.Time{}, fmt.Errorf("calendar: read cursor: %w", err)
	}
	if ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
	}
	// A minute early, so a reminder due at this very run is still posted.
	t := now.Add(-time.Minute).Truncate(time.Second)
	if err := i.cursors.SetCursor(ctx, name, t.UTC().Format(time.RFC3339)); err != nil {
		return time.Time{}, fmt.Errorf("calendar: set cursor: %w", err)
	}
	return t, nil
}

// owed returns the reminders of events that are due at now: an offset
// whose time has come, within the catch-up window, for an event that has
// not started (a timed one: or started within startedGrace). When several
// offsets of one event are due (after downtime), only the latest is
// posted and the others are marked skipped.
func (i *Integration) owed(events []Event, now time.Time) []due {
	var out []due
	for _, e := range events {
		if started := !e.Start.After(now); started && (e.AllDay || now.Sub(e.Start) > startedGrace) {
			continue
		}
		var mine []due
		for _, off := range i.offsets {
			if e.AllDay && off < 24*time.Hour {
				continue // "starts in 15 minutes" makes no sense for a day
			}
			at := e.Start.Add(-off)
			if at.After(now) || now.Sub(at) > i.cfg.CatchUp {
				continue
			}
			mine = append(mine, due{event: e, offset: off, at: at})
		}
		// i.offsets is descending: the last one due is the nearest.
		for n := range mine {
			mine[n].skip = n < len(mine)-1
		}
		out = append(out, mine...)
	}
	return out
}

// claimKey names a reminder in the store: the calendar, the instance, its
// start (so a moved event is reminded anew), the offset and the channel
// (so one failing channel does not repeat the others).
func claimKey(source string, d due, channel string) string {
	return fmt.Sprintf("calendar/remind/%s/%s/%d/%d/%s", source, d.event.InstanceID, d.event.Start.Unix(), int(d.offset.Seconds()), channel)
}

// post claims and posts one reminder to one channel. A permanent refusal
// (channel_not_found, not_in_channel…) confirms the claim, since retrying
// cannot help; any other failure releases it for the next run.
func (i *Integration) post(ctx context.Context, source, channel string, d due, now time.Time) error {
	key := claimKey(source, d, channel)
	ok, err := i.claims.Claim(ctx, key, claimLease)
	if err != nil {
		return fmt.Errorf("calendar: claim reminder: %w", err)
	}
	if !ok {
		return nil // posted already, or being posted by another run
	}
	log := i.log.With("channel", channel, "event_id", d.event.InstanceID, "offset", d.offset.String())
	if d.skip {
		i.m.reminders.WithLabelValues("skipped").Inc()
		log.InfoContext(ctx, "reminder skipped: a later one is due too")
		return i.confirm(ctx, key)
	}
	late := now.Sub(d.at) > lateAfter || !d.event.Start.After(now)
	_, err = i.poster.Post(ctx, channel, i.withRSVP(ctx, reminderMessage(i.clock, d.event, now, late, d.at), d.event))
	switch {
	case err == nil:
		outcome := "posted"
		if late {
			outcome = "late"
		}
		i.m.reminders.WithLabelValues(outcome).Inc()
		log.InfoContext(ctx, "reminder posted", "late", late)
		return i.confirm(ctx, key)
	case slackapp.Permanent(err):
		i.m.reminders.WithLabelValues("failed").Inc()
		return errors.Join(fmt.Errorf("calendar: post reminder to %s (not retried): %w", channel, err), i.confirm(ctx, key))
	default:
		i.m.reminders.WithLabelValues("failed").Inc()
		// Released with a fresh context: ctx may be why the post failed.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := i.claims.Release(rctx, key); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release claim: %w", rerr))
		}
		return fmt.Errorf("calendar: post reminder to %s (retried next minute): %w", channel, err)
	}
}

// confirm marks a claim done, even if ctx was cancelled after the post.
func (i *Integration) confirm(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := i.claims.Confirm(cctx, key); err != nil {
		return fmt.Errorf("calendar: confirm reminder: %w", err)
	}
	return nil
}
