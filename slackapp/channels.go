package slackapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Channel directory timing: a name found in the directory is trusted for
// channelCacheTTL; a name that is not in it (a new channel, a typo) makes
// the app read conversations.list again, but never more than once per
// channelRetryInterval, which is also how long a failed read is remembered.
// conversations.list is a Tier 2 method, about 20 calls a minute
// (https://docs.slack.dev/reference/methods/conversations.list).
const (
	channelCacheTTL      = 5 * time.Minute
	channelRetryInterval = time.Minute
	// channelPageSize is the largest page Slack serves (limit must be
	// under 1000); fewer, bigger pages spend less of the rate limit.
	channelPageSize = 999
	// channelMaxWaits bounds the 429 answers one read of the directory
	// waits out (each for its Retry-After) before it gives up.
	channelMaxWaits = 5
)

// ErrUnknownChannel is matched (errors.Is) by the errors of ResolveChannel
// and ParseChannelRef when the reference itself is at fault: it is not
// written as a channel, or no channel the app can see has that name.
// Trying again will not help until someone fixes the reference (or creates
// the channel, or invites the app). Any other error comes from Slack and
// may pass.
var ErrUnknownChannel = errors.New("unknown channel")

// channelRefError is an ErrUnknownChannel with words for the person who
// wrote the reference.
type channelRefError struct{ msg string }

func (e *channelRefError) Error() string        { return e.msg }
func (e *channelRefError) Is(target error) bool { return target == ErrUnknownChannel }

var (
	// channelIDPattern is a public or private channel's ID ("C…", or "G…"
	// for private channels made before 2021).
	channelIDPattern = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	// escapedChannelPattern is how Slack writes a channel in message and
	// command text: <#C0123ABCD|general> or <#C0123ABCD>
	// (https://docs.slack.dev/messaging/formatting-message-text#linking-channels).
	escapedChannelPattern = regexp.MustCompile(`^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$`)
	// channelNamePattern is a channel name as Slack allows it: lower-case
	// letters (any script), digits, "-" and "_", at most 80.
	channelNamePattern = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}_-]{1,80}$`)
)

// ParseChannelRef reads a channel reference without asking Slack: an ID
// ("C0123ABCD", "G0123ABCD") or Slack's escaped form ("<#C0123ABCD|general>",
// "<#C0123ABCD>") gives id; "#general" or "general" gives name, without the
// "#" and in lower case, as Slack spells channel names. Surrounding spaces
// are ignored. Anything else is an error that matches ErrUnknownChannel
// and says how to write a channel. Configuration uses it to check the
// syntax at start-up; ResolveChannel turns names into IDs later.
func ParseChannelRef(ref string) (id, name string, err error) {
	ref = strings.TrimSpace(ref)
	if m := escapedChannelPattern.FindStringSubmatch(ref); m != nil {
		return m[1], "", nil
	}
	if channelIDPattern.MatchString(ref) {
		return ref, "", nil
	}
	name = strings.ToLower(strings.TrimPrefix(ref, "#"))
	if channelNamePattern.MatchString(name) {
		return "", name, nil
	}
	return "", "", &channelRefError{fmt.Sprintf(
		"%q is not a channel: write #name, or the channel's ID such as C0123ABCD (at the bottom of its About tab)", ref)}
}

// ResolveChannel turns a channel reference into a channel ID. IDs and
// Slack's escaped form ("<#C0123ABCD|general>") are answered at once,
// without checking that the channel exists. Names ("#general" or "general")
// are looked up among the public channels and the private channels the app
// is in, not archived, read from conversations.list and cached for a few
// minutes; a name not found reads the list again at most once a minute, so
// a channel created a moment ago may take a minute to be found.
//
// An error matching ErrUnknownChannel is about the reference (its text
// says how to fix it, for example "no channel named #foo: check the name,
// or use its ID from the channel's About tab"); any other is Slack's,
// wrapped, and worth trying again later. It honours ctx, and is safe for
// concurrent use: callers asking at once share one read of the list.
func (rt *Runtime) ResolveChannel(ctx context.Context, ref string) (string, error) {
	id, name, err := ParseChannelRef(ref)
	if err != nil || id != "" {
		return id, err
	}
	return rt.channels.lookup(ctx, name)
}

// channelDirectory maps channel names to IDs from conversations.list.
type channelDirectory struct {
	api *slack.Client
	log *slog.Logger
	now func() time.Time

	mu        sync.Mutex
	ids       map[string]string // name → ID, as of fetchedAt
	fetchedAt time.Time         // last complete read; zero: never
	triedAt   time.Time         // last read that ended, complete or failed
	err       error             // the failure at triedAt; nil if it succeeded
	reading   chan struct{}     // closed when the read in flight ends; nil if none
	// publicOnly is set once Slack refuses private channels (the token
	// lacks groups:read): names of private channels then stay unknown.
	publicOnly bool
}

func newChannelDirectory(api *slack.Client, log *slog.Logger) *channelDirectory {
	return &channelDirectory{api: api, log: log, now: time.Now}
}

// lookup returns the ID of the channel named name, reading the directory
// when its answer is too old to trust.
func (d *channelDirectory) lookup(ctx context.Context, name string) (string, error) {
	for {
		d.mu.Lock()
		now := d.now()
		id, known := d.ids[name]
		switch {
		case known && now.Sub(d.fetchedAt) < channelCacheTTL:
			d.mu.Unlock()
			return id, nil
		case d.reading != nil:
			// Someone is reading the list: wait for their answer.
			wait := d.reading
			d.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return "", fmt.Errorf("look up channel #%s: %w", name, ctx.Err())
			}
		case !d.triedAt.IsZero() && now.Sub(d.triedAt) < channelRetryInterval:
			// Read less than a minute ago: that read's answer stands.
			err := d.err
			d.mu.Unlock()
			return d.answer(name, id, known, err)
		}
		done := make(chan struct{})
		d.reading = done
		d.mu.Unlock()

		ids, publicOnly, err := d.read(ctx)

		d.mu.Lock()
		d.reading = nil
		close(done)
		if err != nil && ctx.Err() != nil {
			// Our caller gave up; that says nothing about Slack, so the
			// next caller reads again.
			d.mu.Unlock()
			return "", fmt.Errorf("look up channel #%s: %w", name, err)
		}
		d.triedAt, d.err = d.now(), err
		if err == nil {
			d.ids, d.fetchedAt = ids, d.triedAt
			if publicOnly && !d.publicOnly {
				d.log.Warn("slack conversations.list: the bot token lacks groups:read, so #names of private channels cannot be resolved; use their IDs, or reinstall the app from manifest.yaml")
			}
			d.publicOnly = publicOnly
		}
		id, known = d.ids[name]
		d.mu.Unlock()
		return d.answer(name, id, known, err)
	}
}

// answer is lookup's result once the directory has been read (or its read
// has failed): an entry the directory had is still the best answer when a
// later read failed.
func (d *channelDirectory) answer(name, id string, known bool, readErr error) (string, error) {
	switch {
	case known:
		return id, nil
	case readErr != nil:
		return "", fmt.Errorf("look up channel #%s: %w", name, readErr)
	}
	return "", &channelRefError{fmt.Sprintf(
		"no channel named #%s: check the name, or use its ID from the channel's About tab (a private channel must invite the app first)", name)}
}

// read pages through conversations.list to the end: public channels and
// the private channels the app is in, archived ones left out. It waits
// out a 429's Retry-After a few times, and falls back to public channels
// only when the token may not list private ones. publicOnly says whether
// it did.
func (d *channelDirectory) read(ctx context.Context) (ids map[string]string, publicOnly bool, err error) {
	d.mu.Lock()
	publicOnly = d.publicOnly
	d.mu.Unlock()
	for {
		types := []string{"public_channel", "private_channel"}
		if publicOnly {
			types = types[:1]
		}
		ids, err = d.readTypes(ctx, types)
		if !publicOnly && privateRefused(err) {
			publicOnly = true
			continue
		}
		return ids, publicOnly, err
	}
}

func (d *channelDirectory) readTypes(ctx context.Context, types []string) (map[string]string, error) {
	ids := make(map[string]string)
	params := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: channelPageSize, Types: types}
	waits := 0
	for {
		chans, next, err := d.api.GetConversationsContext(ctx, params)
		var rle *slack.RateLimitedError
		if errors.As(err, &rle) && waits < channelMaxWaits {
			waits++
			t := time.NewTimer(rle.RetryAfter)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("slack conversations.list: %w", ctx.Err())
			}
		}
		if err != nil {
			return nil, fmt.Errorf("slack conversations.list: %w", err)
		}
		for _, c := range chans {
			ids[c.Name] = c.ID
		}
		if next == "" {
			return ids, nil
		}
		params.Cursor = next
	}
}

// privateRefused reports whether Slack refused to list private channels:
// missing_scope (no groups:read), or invalid_types, which Slack documents
// for types the token's scopes do not allow.
func privateRefused(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && (se.Err == "missing_scope" || se.Err == "invalid_types")
}
