package calendar

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/townhall/townhall/slackapp"
)

// channelRef reads one channel of TOWNHALL_CALENDAR_SOURCES: a channel ID
// (or Slack's <#C…|name>), kept as the ID, or "#name", kept as "#name" in
// lower case until it is resolved. Only the syntax is checked.
func channelRef(s string) (string, error) {
	id, name, err := slackapp.ParseChannelRef(s)
	switch {
	case err == nil && id != "":
		return id, nil
	case err == nil && strings.HasPrefix(s, "#"):
		return "#" + name, nil
	}
	return "", fmt.Errorf("channel %q: write #name or the channel's ID, such as C0123ABCD (at the bottom of its About tab)", s)
}

// isName reports whether a channel reference is a "#name" to resolve.
func isName(ref string) bool { return strings.HasPrefix(ref, "#") }

// channelMap turns the channel references of the sources into channel IDs.
// An ID stands for itself. A "#name" is resolved at its first use, through
// Deps.ResolveChannel, and kept for the life of the process: if the
// channel is renamed, reminders keep going to it, as they would with its
// ID. A name that cannot be resolved is tried again at its next use (the
// runtime reads Slack's channel list at most once a minute for a name it
// lacks); meanwhile only that channel is skipped (its reminders are not
// claimed, so once the name resolves those still within
// TOWNHALL_CALENDAR_CATCH_UP are posted late), and status and the logs say
// why. It is safe for concurrent use.
type channelMap struct {
	resolve func(ctx context.Context, ref string) (string, error)
	log     *slog.Logger

	mu       sync.Mutex
	resolved map[string]string // "#name" → channel ID
	failed   map[string]string // "#name" → why its last lookup failed
}

func newChannelMap(resolve func(context.Context, string) (string, error), log *slog.Logger) *channelMap {
	return &channelMap{resolve: resolve, log: log, resolved: map[string]string{}, failed: map[string]string{}}
}

// ids returns the IDs of the references that resolve, in order and each
// once; the others are left out (and logged by id).
func (c *channelMap) ids(ctx context.Context, refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		if id, err := c.id(ctx, ref); err == nil && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// id resolves one reference. A failure is logged when it first happens
// or changes, and kept for status, unless ctx ended, which says nothing
// about the channel.
func (c *channelMap) id(ctx context.Context, ref string) (string, error) {
	if !isName(ref) {
		return ref, nil
	}
	c.mu.Lock()
	id, ok := c.resolved[ref]
	c.mu.Unlock()
	if ok {
		return id, nil
	}
	id, err := c.resolve(ctx, ref)
	if err != nil && ctx.Err() != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if c.failed[ref] != err.Error() {
			c.log.WarnContext(ctx, "calendar channel cannot be resolved; its reminders and digests skip it until it is",
				"channel", ref, "error", err)
		}
		c.failed[ref] = err.Error()
		return "", fmt.Errorf("calendar channel %s: %w", ref, err)
	}
	c.resolved[ref] = id
	delete(c.failed, ref)
	c.log.InfoContext(ctx, "calendar channel resolved", "channel", ref, "id", id)
	return id, nil
}

// state says, without asking Slack, what is known of a reference: its ID
// once resolved, or why its last lookup failed.
func (c *channelMap) state(ref string) (id, failure string) {
	if !isName(ref) {
		return ref, ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resolved[ref], c.failed[ref]
}
