package feeds

import (
	"context"
	"fmt"

	"github.com/townhall/townhall/slackapp"
)

// maxStatusSources bounds the sources status lists one by one; beyond it,
// only failing ones are listed.
const maxStatusSources = 10

// Status implements integrations.Reporter: a summary of the sources, each
// failing one with its error and next try, and X's rate-limit pause.
func (i *Integration) Status(ctx context.Context) []string {
	subs, err := i.subscriptions(ctx)
	if err != nil {
		return []string{"    🔴 can't read the subscriptions: " + slackapp.Escape(shortError(err))}
	}
	var lines []string
	failing := 0
	for _, s := range subs {
		if i.healthOf(s.ID).failures > 0 {
			failing++
		}
	}
	lines = append(lines, fmt.Sprintf("    📡 %s followed, %d failing", plural(len(subs), "source", "sources"), failing))
	if p := i.xPaused(); i.now().Before(p) {
		lines = append(lines, "    ⏸ X rate limit reached; X accounts are checked again from "+i.when(p))
	}
	if i.x == nil {
		for _, s := range subs {
			if s.Kind == KindX {
				lines = append(lines, "    ⚠️ X accounts are followed but TOWNHALL_FEEDS_X_BEARER_TOKEN is not set")
				break
			}
		}
	}
	shown := 0
	for _, s := range subs {
		h := i.healthOf(s.ID)
		if h.failures == 0 && len(subs) > maxStatusSources {
			continue
		}
		if shown == maxStatusSources {
			lines = append(lines, fmt.Sprintf("    …and %d more", failing-shown))
			break
		}
		shown++
		line := fmt.Sprintf("    `%s` %s → %s: ", s.ID, slackapp.Escape(s.Label()), channelList(s.Channels))
		switch {
		case h.failures > 0 && h.paused && i.now().Before(h.retryAt):
			line = "    ⏸" + line[3:] + fmt.Sprintf("paused until %s, as the server asked (%s)",
				i.when(h.retryAt), slackapp.Escape(truncate(h.lastErr, 200)))
		case h.failures > 0:
			line = "    🔴" + line[3:] + fmt.Sprintf("failing (%s in a row): %s; next try %s",
				plural(h.failures, "time", "times"), slackapp.Escape(truncate(h.lastErr, 200)), i.when(h.retryAt))
			if !h.lastSuccess.IsZero() {
				line += "; last worked " + i.when(h.lastSuccess)
			}
		case h.lastCheck.IsZero():
			line = "    ⚪" + line[3:] + "not checked yet"
		default:
			line = "    🟢" + line[3:] + "last checked " + i.when(h.lastSuccess)
		}
		if h.malformed > 0 {
			line += fmt.Sprintf(" (%s skipped)", plural(h.malformed, "malformed entry", "malformed entries"))
		}
		lines = append(lines, line)
	}
	return lines
}
