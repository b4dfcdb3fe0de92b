package calendar

import (
	"context"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/slackapp"
)

var _ integrations.Checker = (*Integration)(nil)

// Health implements integrations.Checker: each calendar, failing since
// its first failed fetch in a row.
func (i *Integration) Health(ctx context.Context) []integrations.Health {
	out := make([]integrations.Health, 0, len(i.sources))
	for _, s := range i.sources {
		s.mu.Lock()
		since, lastErr, tried := s.failingSince, s.lastErr, s.ok || s.failures > 0
		s.mu.Unlock()
		where, _ := i.channelStatus(s.Channels)
		fix := "Open the calendar's address in a browser (its secret address may have been reset: copy the new one into `TOWNHALL_CALENDAR_SOURCES`). Its last good events are still reminded meanwhile."
		if s.Kind == KindGoogle {
			fix = "Check that the calendar is still public or shared with the service account, and `TOWNHALL_CALENDAR_GOOGLE_API_KEY` or the credentials file. Its last good events are still reminded meanwhile."
		}
		out = append(out, integrations.Health{
			Key:          "calendar:" + s.Key(),
			What:         "The calendar *" + slackapp.Escape(s.Label()) + "* (for " + where + ")",
			FailingSince: since,
			Unknown:      !tried,
			LastError:    oneLine(lastErr, 300),
			Fix:          fix,
		})
	}
	return out
}
