package calendar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/townhall/townhall/slackapp"
)

// maxDigestSpan bounds a digest's window when the spec runs rarely.
const maxDigestSpan = 31 * 24 * time.Hour

// postDigest is the digest job: each channel gets the agenda of its
// calendars from the occurrence 'at' until the spec's next occurrence
// (a day for a daily spec, a week for a weekly one), grouped by day.
// Channels with nothing coming up get nothing.
func (i *Integration) postDigest(ctx context.Context, at time.Time) error {
	i.digestMu.Lock()
	defer i.digestMu.Unlock()
	fetchErr := i.refresh(ctx)
	to := i.digest.Next(at)
	if to.IsZero() || to.Sub(at) > maxDigestSpan {
		to = at.Add(maxDigestSpan)
	}
	var channels []string
	seen := make(map[string]bool)
	for _, s := range i.sources {
		for _, ch := range i.channels.ids(ctx, s.Channels) {
			if !seen[ch] {
				seen[ch] = true
				channels = append(channels, ch)
			}
		}
	}
	var errs []error
	for _, ch := range channels {
		events := i.eventsFor(ctx, ch, at, to)
		if len(events) == 0 {
			continue
		}
		key := fmt.Sprintf("calendar/digest/%s/%d", ch, at.Unix())
		ok, err := i.claims.Claim(ctx, key, claimLease)
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar: claim digest: %w", err))
			continue
		}
		if !ok {
			continue
		}
		msg := digestMessage(i.clock, events, at, to)
		ts, err := i.poster.Post(ctx, ch, msg)
		if err != nil && !slackapp.Permanent(err) {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			errs = append(errs, fmt.Errorf("calendar: post digest to %s: %w", ch, err), i.claims.Release(rctx, key))
			cancel()
			continue
		} else if err != nil {
			errs = append(errs, fmt.Errorf("calendar: post digest to %s (not retried): %w", ch, err))
		}
		errs = append(errs, i.confirm(ctx, key))
		i.log.InfoContext(ctx, "digest posted", "channel", ch, "events", len(events))
		if err == nil {
			i.translateDigest(ctx, ch, ts, digestText(i.clock, msg.Text, events))
		}
	}
	return errors.Join(append(errs, fetchErr)...)
}

// translateDigest posts the digest's translations in its thread, when
// TOWNHALL_CALENDAR_DIGEST_LANGUAGES asks for them. A failure is logged:
// the digest itself is what had to be posted once.
func (i *Integration) translateDigest(ctx context.Context, ch, ts, text string) {
	if len(i.cfg.DigestLanguages) == 0 || i.translate == nil || ts == "" {
		return
	}
	m, ok, err := i.translate(ctx, text, i.cfg.DigestLanguages)
	switch {
	case err != nil:
		i.log.WarnContext(ctx, "digest posted without its translations", "channel", ch, "error", err)
	case ok:
		m.ThreadTS = ts
		if _, err := i.poster.Post(ctx, ch, m); err != nil {
			i.log.WarnContext(ctx, "digest's translations not posted", "channel", ch, "error", err)
		}
	}
}

// digestText is what of a digest is translated: its heading and, a line
// each, the events' times, titles and places.
func digestText(c clock, head string, events []Event) string {
	lines := []string{safe(head)}
	for _, e := range events {
		line := "• " + fallbackWhen(c, e) + " · " + safe(title(e))
		if loc := oneLine(e.Location, 80); loc != "" && joinURL(Event{Location: e.Location}) == "" {
			line += " · " + safe(loc)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
