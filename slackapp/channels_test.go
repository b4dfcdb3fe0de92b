package slackapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// These tests build a Runtime against the fake workspace without running
// it (ResolveChannel needs only the Web API), so they can move the
// directory's clock; they live inside the package for that one field.

const listMethod = "conversations.list"

// Channels of the test workspace besides #general and #random.
var (
	secretCh   = slacktest.Channel{ID: "C0SECRET", Name: "secret", IsPrivate: true, IsMember: true}
	hiddenCh   = slacktest.Channel{ID: "C0HIDDEN", Name: "hidden", IsPrivate: true}
	archivedCh = slacktest.Channel{ID: "C0OLD", Name: "old", IsArchived: true}
	legacyCh   = slacktest.Channel{ID: "G0LEGACY", Name: "legacy-private", IsPrivate: true, IsMember: true}
)

// fillerChannels makes the workspace big enough that conversations.list
// needs more than one page.
const fillerChannels = channelPageSize + 100

type channelBundle struct {
	ws    *slacktest.Server
	rt    *Runtime
	clock *testClock
	logs  *lockedBuffer
}

func setupChannels(t *testing.T, extra ...slacktest.Option) *channelBundle {
	t.Helper()
	opts := []slacktest.Option{
		slacktest.WithChannel(secretCh), slacktest.WithChannel(hiddenCh),
		slacktest.WithChannel(archivedCh), slacktest.WithChannel(legacyCh),
	}
	ws := slacktest.New(t, append(opts, extra...)...)
	logs := &lockedBuffer{}
	rt, err := New(Config{
		AppToken: Secret(ws.AppToken()), BotToken: Secret(ws.BotToken()), APIURL: ws.APIURL(),
		HandlerTimeout: time.Second, ShutdownTimeout: time.Second, MaxConcurrentHandlers: 1,
	}, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	rt.channels.now = clock.Now
	t.Cleanup(func() {
		if strings.Contains(logs.String(), ws.BotToken()) {
			t.Error("the bot token appeared in the logs")
		}
	})
	return &channelBundle{ws: ws, rt: rt, clock: clock, logs: logs}
}

// wantID resolves ref and checks the answer.
func (b *channelBundle) wantID(t *testing.T, ref, want string) {
	t.Helper()
	got, err := b.rt.ResolveChannel(t.Context(), ref)
	if err != nil || got != want {
		t.Fatalf("ResolveChannel(%q) = %q, %v; want %q", ref, got, err, want)
	}
}

// wantUnknown resolves ref and checks that the reference is refused.
func (b *channelBundle) wantUnknown(t *testing.T, ref, wantText string) {
	t.Helper()
	got, err := b.rt.ResolveChannel(t.Context(), ref)
	if !errors.Is(err, ErrUnknownChannel) || !strings.Contains(err.Error(), wantText) {
		t.Fatalf("ResolveChannel(%q) = %q, %v; want ErrUnknownChannel saying %q", ref, got, err, wantText)
	}
}

func (b *channelBundle) wantCalls(t *testing.T, want int) {
	t.Helper()
	if got := b.ws.Calls(listMethod); got != want {
		t.Fatalf("%d calls of %s, want %d", got, listMethod, want)
	}
}

func TestResolveChannel(t *testing.T) {
	t.Parallel()
	var filler []slacktest.Option
	for n := range fillerChannels {
		filler = append(filler, slacktest.WithChannel(slacktest.Channel{ID: fmt.Sprintf("C1FILL%04d", n), Name: fmt.Sprintf("filler-%04d", n)}))
	}
	// Added after the filler, so only the second page has it.
	filler = append(filler, slacktest.WithChannel(slacktest.Channel{ID: "C0LAST", Name: "last-page"}))
	b := setupChannels(t, filler...)

	tests := []struct {
		ref     string
		want    string
		unknown string // the refusal's text, when the reference is refused
	}{
		{ref: "C0GENERAL", want: slacktest.GeneralID},
		{ref: "G0ANYTHING", want: "G0ANYTHING"}, // IDs are not checked
		{ref: "<#C0RANDOM|random>", want: slacktest.RandomID},
		{ref: "<#C0RANDOM>", want: slacktest.RandomID},
		{ref: "#general", want: slacktest.GeneralID},
		{ref: "general", want: slacktest.GeneralID},
		{ref: "  #General ", want: slacktest.GeneralID},
		{ref: "#random", want: slacktest.RandomID},  // public, the app not in it
		{ref: "#secret", want: secretCh.ID},         // private, the app in it
		{ref: "#legacy-private", want: legacyCh.ID}, // a G… ID
		{ref: "#last-page", want: "C0LAST"},         // past the first page
		{ref: "#filler-0042", want: "C1FILL0042"},
		{ref: "#hidden", unknown: "no channel named #hidden: check the name, or use its ID from the channel's About tab"},
		{ref: "#old", unknown: "no channel named #old"}, // archived
		{ref: "#nope", unknown: "no channel named #nope: check the name, or use its ID from the channel's About tab"},
		{ref: "", unknown: `"" is not a channel: write #name, or the channel's ID`},
		{ref: "#two words", unknown: `"#two words" is not a channel`},
		{ref: "<#nope|x>", unknown: `"<#nope|x>" is not a channel`},
		{ref: "<@U0ADMIN>", unknown: "is not a channel"},
		{ref: "#" + strings.Repeat("x", 81), unknown: "is not a channel"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			t.Parallel()
			if tt.unknown != "" {
				b.wantUnknown(t, tt.ref, tt.unknown)
				return
			}
			b.wantID(t, tt.ref, tt.want)
		})
	}
	t.Cleanup(func() {
		// One read of the list for every name, misses included: two pages.
		if got := b.ws.Calls(listMethod); got != 2 {
			t.Errorf("%d calls of %s, want 2 (one read, two pages)", got, listMethod)
		}
	})
}

func TestParseChannelRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref, id, name string
		bad           bool
	}{
		{ref: "C0123ABCD", id: "C0123ABCD"},
		{ref: " G0123ABCD ", id: "G0123ABCD"},
		{ref: "<#C0123ABCD|general>", id: "C0123ABCD"},
		{ref: "<#C0123ABCD>", id: "C0123ABCD"},
		{ref: "#General", name: "general"},
		{ref: "wg-idn_2026", name: "wg-idn_2026"},
		{ref: "#日本語", name: "日本語"},
		{ref: "D0123ABCD", name: "d0123abcd"}, // not a channel ID: read as a name
		{ref: "#", bad: true},
		{ref: "#a.b", bad: true},
		{ref: "<#C0123ABCD", bad: true},
		{ref: "https://example.org", bad: true},
	}
	for _, tt := range tests {
		id, name, err := ParseChannelRef(tt.ref)
		switch {
		case tt.bad:
			if !errors.Is(err, ErrUnknownChannel) {
				t.Errorf("ParseChannelRef(%q) = %q, %q, %v; want ErrUnknownChannel", tt.ref, id, name, err)
			}
		case err != nil || id != tt.id || name != tt.name:
			t.Errorf("ParseChannelRef(%q) = %q, %q, %v; want %q, %q", tt.ref, id, name, err, tt.id, tt.name)
		}
	}
}

// TestChannelCache: names are trusted for a few minutes; a miss reads the
// list again, but at most once a minute.
func TestChannelCache(t *testing.T) {
	t.Parallel()
	b := setupChannels(t)
	b.wantCalls(t, 0)
	b.wantID(t, "C0GENERAL", slacktest.GeneralID)
	b.wantCalls(t, 0) // IDs need no lookup

	b.wantID(t, "#general", slacktest.GeneralID)
	b.wantCalls(t, 1)

	// A channel created after the read is missed until a minute has
	// passed since the read; the misses in between cost nothing.
	b.ws.AddChannel(slacktest.Channel{ID: "C0NEW", Name: "new"})
	b.wantUnknown(t, "#new", "no channel named #new")
	b.clock.Add(channelRetryInterval - time.Second)
	b.wantUnknown(t, "#new", "no channel named #new")
	b.wantCalls(t, 1)
	b.clock.Add(time.Second)
	b.wantID(t, "#new", "C0NEW")
	b.wantCalls(t, 2)

	// Names found are trusted for channelCacheTTL after the read.
	b.clock.Add(channelCacheTTL - time.Second)
	b.wantID(t, "#general", slacktest.GeneralID)
	b.wantID(t, "#new", "C0NEW")
	b.wantCalls(t, 2)

	// Archived: gone at the next read.
	if err := b.ws.ArchiveChannel("C0NEW"); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(time.Second)
	b.wantUnknown(t, "#new", "no channel named #new")
	b.wantCalls(t, 3)
}

// TestChannelReadFailures: a failed read is Slack's error, not the
// reference's; it is remembered for a minute, and names read before stay
// usable.
func TestChannelReadFailures(t *testing.T) {
	t.Parallel()
	b := setupChannels(t)

	b.ws.FailNext(listMethod, http.StatusInternalServerError, 0)
	_, err := b.rt.ResolveChannel(t.Context(), "#general")
	if err == nil || errors.Is(err, ErrUnknownChannel) || !strings.Contains(err.Error(), "look up channel #general: slack conversations.list") {
		t.Fatalf("a failed read: %v", err)
	}
	b.wantCalls(t, 1)
	if _, err2 := b.rt.ResolveChannel(t.Context(), "#general"); err2 == nil || err2.Error() != err.Error() {
		t.Fatalf("within the minute: %v, want the same failure", err2)
	}
	b.wantCalls(t, 1)
	b.clock.Add(channelRetryInterval)
	b.wantID(t, "#general", slacktest.GeneralID)
	b.wantCalls(t, 2)

	// The cache is stale and Slack fails: the last answer stands.
	b.clock.Add(channelCacheTTL)
	b.ws.FailNextError(listMethod, "internal_error")
	b.wantID(t, "#general", slacktest.GeneralID)
	b.wantCalls(t, 3)
	if _, err := b.rt.ResolveChannel(t.Context(), "#nope"); err == nil || errors.Is(err, ErrUnknownChannel) {
		t.Errorf("a name the failed read might have found: %v, want Slack's error", err)
	}
	b.wantCalls(t, 3)
}

func TestChannelReadWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	b := setupChannels(t)
	b.ws.FailNext(listMethod, http.StatusTooManyRequests, 0) // Retry-After: 0
	b.ws.FailNext(listMethod, http.StatusTooManyRequests, 0)
	b.wantID(t, "#general", slacktest.GeneralID)
	b.wantCalls(t, 3)

	b.clock.Add(channelCacheTTL)
	for range channelMaxWaits + 1 {
		b.ws.FailNext(listMethod, http.StatusTooManyRequests, 0)
	}
	b.wantID(t, "#general", slacktest.GeneralID) // the stale answer
	b.wantCalls(t, 3+channelMaxWaits+1)
}

// TestChannelsWithoutGroupsRead: a token without groups:read may not list
// private channels; public names still resolve, and the operator is told
// once.
func TestChannelsWithoutGroupsRead(t *testing.T) {
	t.Parallel()
	b := setupChannels(t)
	b.ws.FailNextError(listMethod, "missing_scope")
	b.wantID(t, "#random", slacktest.RandomID)
	b.wantCalls(t, 2)
	b.wantUnknown(t, "#secret", "a private channel must invite the app first")
	b.clock.Add(channelCacheTTL)
	b.wantID(t, "#general", slacktest.GeneralID)
	b.wantCalls(t, 3) // public only from then on: no second refusal
	if n := strings.Count(b.logs.String(), "groups:read"); n != 1 {
		t.Errorf("the missing scope was logged %d times, want once:\n%s", n, b.logs.String())
	}
}

// TestChannelLookupsShareOneRead: callers asking at once wait for one read.
func TestChannelLookupsShareOneRead(t *testing.T) {
	t.Parallel()
	b := setupChannels(t)
	var wg sync.WaitGroup
	for n := range 20 {
		wg.Go(func() {
			ref, want := "#general", slacktest.GeneralID
			if n%2 == 1 {
				ref, want = "#secret", secretCh.ID
			}
			if got, err := b.rt.ResolveChannel(t.Context(), ref); err != nil || got != want {
				t.Errorf("ResolveChannel(%q) = %q, %v", ref, got, err)
			}
		})
	}
	wg.Wait()
	b.wantCalls(t, 1)
}

// TestChannelLookupCancelled: a caller who gives up does not spoil the
// next caller's answer.
func TestChannelLookupCancelled(t *testing.T) {
	t.Parallel()
	b := setupChannels(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.rt.ResolveChannel(ctx, "#general"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled lookup: %v", err)
	}
	b.wantID(t, "#general", slacktest.GeneralID)
}

// testClock is the directory's clock; tests move it, nothing sleeps.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lockedBuffer collects logs written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
