package slackapp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// memJournal is the journal the replicas share, as the store keeps it
// (store.Store, adapted by cmd/townhall, is the real one): each replica
// sees it through view(owner). A replica is dead once the test says so.
type memJournal struct {
	claims  *sharedClaims // the Deduper of the same store, confirmed by Finish
	mu      sync.Mutex
	entries map[string]*memEntry
	dead    map[string]bool
	changed chan struct{} // closed and replaced at every change
}

type memEntry struct {
	e     slackapp.JournalEntry
	owner string
	done  bool
}

// newMemJournal returns a journal over claims whose replicas, as with
// cmd/townhall, count as dead three replay intervals after their last
// beat: a claim is taken from a dead owner once it is that old.
func newMemJournal(claims *sharedClaims, replayInterval time.Duration) *memJournal {
	j := &memJournal{claims: claims, entries: map[string]*memEntry{}, dead: map[string]bool{}, changed: make(chan struct{})}
	claims.deadAfter = 3 * replayInterval
	claims.dead = func(owner string) bool {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.dead[owner]
	}
	return j
}

func (j *memJournal) changedLocked() {
	close(j.changed)
	j.changed = make(chan struct{})
}

func (j *memJournal) kill(owner string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.dead[owner] = true
	j.changedLocked()
}

// wait blocks until ok holds of the entries, or ctx ends.
func (j *memJournal) wait(ctx context.Context, t *testing.T, what string, ok func(map[string]*memEntry) bool) {
	t.Helper()
	for {
		j.mu.Lock()
		done, ch := ok(j.entries), j.changed
		j.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

func (j *memJournal) view(owner string) slackapp.Journal { return journalView{j, owner} }

type journalView struct {
	j     *memJournal
	owner string
}

// Record records es and claims their keys for v's owner, as the store's
// JournalAppend does.
func (v journalView) Record(_ context.Context, es []slackapp.JournalEntry, lease time.Duration) ([]bool, error) {
	claimed := make([]bool, len(es))
	v.j.claims.mu.Lock()
	for i, e := range es {
		claimed[i] = true
		for _, k := range e.Claim {
			if !v.j.claims.claimLocked(k, v.owner, lease) {
				claimed[i] = false
			}
		}
	}
	v.j.claims.mu.Unlock()
	v.j.mu.Lock()
	defer v.j.mu.Unlock()
	for _, e := range es {
		if _, ok := v.j.entries[e.EnvelopeID]; !ok {
			e.Claim = nil
			v.j.entries[e.EnvelopeID] = &memEntry{e: e, owner: v.owner}
		}
	}
	v.j.changedLocked()
	return claimed, nil
}

// Holding reports whether v's owner still holds keys.
func (v journalView) Holding(_ context.Context, keys []string) (bool, error) {
	v.j.claims.mu.Lock()
	defer v.j.claims.mu.Unlock()
	for _, k := range keys {
		cl, ok := v.j.claims.claims[k]
		if !ok || cl.confirmed || cl.owner != v.owner || !time.Now().Before(cl.until) {
			return false, nil
		}
	}
	return true, nil
}

func (v journalView) Finish(ctx context.Context, ids, confirm []string) error {
	for _, k := range confirm {
		if err := v.j.claims.Confirm(ctx, k); err != nil {
			return err
		}
	}
	v.j.mu.Lock()
	defer v.j.mu.Unlock()
	for _, id := range ids {
		if e, ok := v.j.entries[id]; ok {
			e.done = true
		}
	}
	v.j.changedLocked()
	return nil
}

func (v journalView) TakeOver(_ context.Context, limit int) ([]slackapp.JournalEntry, error) {
	v.j.mu.Lock()
	defer v.j.mu.Unlock()
	var out []slackapp.JournalEntry
	for _, e := range v.j.entries {
		if len(out) == limit {
			break
		}
		if !e.done && e.owner != v.owner && v.j.dead[e.owner] {
			taken := e.e
			taken.Owner = e.owner
			e.owner = v.owner
			out = append(out, taken)
		}
	}
	if len(out) > 0 {
		v.j.changedLocked()
	}
	return out, nil
}

// TestJournalReplaysWhatADeadReplicaAcknowledged: replica one acknowledges
// a command but dies (here: stalls, its only handler slot taken) before
// handling it. Its journal entry outlives it; replica two, seeing it dead,
// takes the entry over, routes the envelope again and answers it through
// its response_url, once: when one comes back to it, the shared claim
// turns it away.
func TestJournalReplaysWhatADeadReplicaAcknowledged(t *testing.T) {
	t.Parallel()
	claims := &sharedClaims{}
	journal := newMemJournal(claims, 10*time.Millisecond)
	release := make(chan struct{})
	block := slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	handlers := slackapp.Handlers{Commands: []slackapp.Command{
		{Name: "/block", Handler: block}, {Name: "/echo", Handler: echo("echo: ")},
	}}
	one := setup(t, setupOpts{
		handlers: handlers,
		cfg:      func(c *slackapp.Config) { c.MaxConcurrentHandlers = 1 },
		opts: func(o *slackapp.Options) {
			o.Deduper, o.Journal, o.ReplayInterval = claims, journal.view("one"), 10*time.Millisecond
		},
	})
	ctx := waitCtx(t)
	blocked, err := one.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/block", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.ws.WaitAck(ctx, blocked.ID); err != nil {
		t.Fatal(err)
	}
	env, err := one.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: "once", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	// Acknowledged only once it is in the journal.
	if _, err := one.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	journal.mu.Lock()
	recorded := journal.entries[env.ID]
	journal.mu.Unlock()
	if recorded == nil || recorded.owner != "one" || !strings.Contains(string(recorded.e.Envelope), `"once"`) {
		t.Fatalf("journal entry of the acknowledged command = %+v; want it recorded, owned by one, with its payload", recorded)
	}

	// One is dead as far as the others can tell. Its /block is not what
	// this test is about: count it answered.
	journal.kill("one")
	if err := journal.view("test").Finish(ctx, []string{blocked.ID}, nil); err != nil {
		t.Fatal(err)
	}
	two := setup(t, setupOpts{
		server:   one.ws,
		handlers: handlers,
		opts: func(o *slackapp.Options) {
			o.Deduper, o.Journal, o.ReplayInterval = claims, journal.view("two"), 10*time.Millisecond
		},
	})
	posts, err := one.ws.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if posts[0].Method != slacktest.MethodResponseURL || !strings.Contains(posts[0].Text, "echo: once") {
		t.Errorf("replayed answer = %+v; want echo: once through the response_url", posts[0])
	}
	journal.wait(ctx, t, "the replayed entry finished", func(es map[string]*memEntry) bool {
		return es[env.ID].done && es[env.ID].owner == "two"
	})

	// One recovers and reaches the command it had queued: the claim two
	// confirmed turns it away.
	close(release)
	for _, b := range []*testBundle{one, two} {
		if err := b.rt.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(one.ws.Posts()); n != 1 {
		t.Errorf("%d answers, want 1: %+v", n, one.ws.Posts())
	}
	if !strings.Contains(two.logs.String(), "journal: replaying a request of a dead replica") {
		t.Errorf("two's logs do not say it replayed:\n%s", two.logs)
	}
}

// failingJournal cannot be written, as with the database away.
type failingJournal struct{}

var errJournalDown = errors.New("database unavailable")

func (failingJournal) Record(context.Context, []slackapp.JournalEntry, time.Duration) ([]bool, error) {
	return nil, errJournalDown
}
func (failingJournal) Finish(context.Context, []string, []string) error { return errJournalDown }
func (failingJournal) Holding(context.Context, []string) (bool, error)  { return false, errJournalDown }
func (failingJournal) TakeOver(context.Context, int) ([]slackapp.JournalEntry, error) {
	return nil, errJournalDown
}

// TestJournalUnavailableStillAcks: a journal that cannot be written costs
// the ack a failed write once, then nothing; every request is acknowledged
// and answered, and the logs say what is at risk.
func TestJournalUnavailableStillAcks(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{
		handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/echo", Handler: echo("echo: ")}}},
		opts: func(o *slackapp.Options) {
			o.Deduper, o.Journal = &sharedClaims{}, failingJournal{}
		},
	})
	ctx := waitCtx(t)
	for i := range 3 {
		env, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: "hi", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
		if err != nil {
			t.Fatal(err)
		}
		ack, err := b.ws.WaitAck(ctx, env.ID)
		if err != nil {
			t.Fatalf("command %d not acknowledged: %v", i, err)
		}
		if d := ack.Received.Sub(env.Sent); d > 2*time.Second {
			t.Errorf("command %d acknowledged after %v; Slack's deadline is 3 s", i, d)
		}
	}
	if _, err := b.ws.WaitPosts(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.logs.String(), "journal unavailable; acknowledging without it") {
		t.Errorf("logs do not say the journal is unavailable:\n%s", b.logs)
	}
}

// holdingFails is a journal whose Holding cannot be asked, as with the
// database away for that moment.
type holdingFails struct{ journalView }

func (holdingFails) Holding(context.Context, []string) (bool, error) { return false, errJournalDown }

// TestQueuedHandlerRunsWhenItsClaimCannotBeChecked: a command that waited
// for a handler slot longer than a replay interval checks that its claim,
// taken with its journal entry, is still its own. When the store cannot
// say, it runs (a possible duplicate, never a lost request): claiming
// again would only meet its own lease.
func TestQueuedHandlerRunsWhenItsClaimCannotBeChecked(t *testing.T) {
	t.Parallel()
	const interval = 20 * time.Millisecond
	claims := &sharedClaims{}
	journal := newMemJournal(claims, interval)
	started, release := make(chan struct{}), make(chan struct{})
	block := slackapp.HandlerFunc(func(ctx context.Context, r *slackapp.Request) error {
		close(started)
		<-release
		return nil
	})
	b := setup(t, setupOpts{
		handlers: slackapp.Handlers{Commands: []slackapp.Command{{Name: "/block", Handler: block}, {Name: "/echo", Handler: echo("echo: ")}}},
		cfg:      func(c *slackapp.Config) { c.MaxConcurrentHandlers = 1 },
		opts: func(o *slackapp.Options) {
			o.Deduper, o.Journal, o.ReplayInterval = claims, holdingFails{journal.view("one").(journalView)}, interval
		},
	})
	ctx := waitCtx(t)
	if _, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/block", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID}); err != nil {
		t.Fatal(err)
	}
	<-started // the only handler slot is taken
	env, err := b.ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/echo", Text: "queued", UserID: slacktest.MemberID, ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	// The condition under test is time passing: the queued command
	// starts more than a replay interval after its journal write.
	time.Sleep(3 * interval)
	close(release)
	posts, err := b.ws.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(posts[0].Text, "echo: queued") {
		t.Errorf("answer = %+v; want echo: queued", posts[0])
	}
	if err := b.rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(b.ws.Posts()); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
	if !strings.Contains(b.logs.String(), "shared dedup unavailable") {
		t.Errorf("logs do not say the claim could not be checked:\n%s", b.logs)
	}
}

// TestJournalNeedsDeduper: a replay is claimed under the first delivery's
// keys; without a shared Deduper it could answer twice, so New refuses.
func TestJournalNeedsDeduper(t *testing.T) {
	t.Parallel()
	_, err := slackapp.New(slackapp.Config{
		AppToken: "xapp-1", BotToken: "xoxb-1", APIURL: "https://slack.com/api/",
		HandlerTimeout: time.Second, ShutdownTimeout: time.Second, MaxConcurrentHandlers: 1,
	}, slackapp.Options{Journal: failingJournal{}})
	if err == nil || !strings.Contains(err.Error(), "Deduper") {
		t.Errorf("New with a Journal and no Deduper = %v; want an error naming the Deduper", err)
	}
}
