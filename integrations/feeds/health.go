package feeds

import (
	"context"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/slackapp"
)

var _ integrations.Checker = (*Integration)(nil)

// Health implements integrations.Checker: each subscription, failing
// since its first failure in a row.
func (i *Integration) Health(ctx context.Context) []integrations.Health {
	subs, err := i.subscriptions(ctx)
	if err != nil {
		return nil // the store's trouble, which /townhall status shows
	}
	out := make([]integrations.Health, 0, len(subs))
	for _, s := range subs {
		h := i.healthOf(s.ID)
		what := "The feed *" + slackapp.Escape(s.Label()) + "*"
		move := "`/feed remove " + s.ID + "` and `/feed add` its new address"
		if s.FromEnv {
			move = "put its new address in `TOWNHALL_FEEDS_SOURCES`"
		}
		fix := "Open the feed's address in a browser: if it moved, " + move + "; if its server is down, nothing is lost, as its items are posted when it answers again."
		if s.Kind == KindX {
			what = "The X account *" + slackapp.Escape(s.Label()) + "*"
			fix = "Check `TOWNHALL_FEEDS_X_BEARER_TOKEN` and the X app's plan in the X developer portal; its posts are caught up when it works again."
		}
		out = append(out, integrations.Health{
			Key:          "feeds:" + s.ID,
			What:         what + " (`" + s.ID + "`, for " + channelList(s.Channels) + ")",
			FailingSince: h.failingSince,
			Unknown:      h.lastCheck.IsZero(),
			LastError:    h.lastErr,
			Fix:          fix,
		})
	}
	return out
}
