package archive_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/townhall/townhall/integrations"
	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/integrationtest"
	"github.com/townhall/townhall/slackapp/slacktest"
)

// fakeConnections plays the runtime's WaitConnection: each call reports
// the number it was given on calls, then returns the next number sent on
// next.
type fakeConnections struct {
	calls chan uint64
	next  chan uint64
}

func newFakeConnections() *fakeConnections {
	return &fakeConnections{calls: make(chan uint64), next: make(chan uint64)}
}

func (f *fakeConnections) WaitConnection(ctx context.Context, seen uint64) (uint64, error) {
	select {
	case f.calls <- seen:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case n := <-f.next:
		return n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// receive returns the next value of ch, failing the test after a while.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

// TestRunCatchesUpOnEveryConnection: Run waits for each connection after
// the last it saw, and catches up once for each, however many connections
// were made meanwhile.
func TestRunCatchesUpOnEveryConnection(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t)
	conns := newFakeConnections()
	i, err := archive.New(archive.Config{Enabled: true, BackupKeep: 1},
		archive.Deps{Archive: openArchive(t), API: slack.New(ws.BotToken(), slack.OptionAPIURL(ws.APIURL())), WaitConnection: conns.WaitConnection})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- i.Run(ctx) }()

	steps := []struct {
		connection uint64 // the runtime's next connection
		catchUps   int    // conversations.list calls after its catch-up
	}{
		{1, 1},
		{3, 2}, // two reconnects while the first catch-up ran: one more catch-up
		{4, 3},
	}
	if got := receive(t, conns.calls); got != 0 {
		t.Fatalf("first WaitConnection(%d), want WaitConnection(0)", got)
	}
	for _, s := range steps {
		conns.next <- s.connection
		// Run asks for a later connection only once this one's catch-up is done.
		if got := receive(t, conns.calls); got != s.connection {
			t.Fatalf("WaitConnection(%d) after connection %d", got, s.connection)
		}
		if got := ws.Calls("conversations.list"); got != s.catchUps {
			t.Fatalf("after connection %d: %d catch-ups, want %d", s.connection, got, s.catchUps)
		}
	}
	cancel()
	if err := receive(t, done); err != nil {
		t.Errorf("Run = %v after its context ended; want nil", err)
	}
}

// TestRunWithoutConnectionsCatchesUpOnce: with no WaitConnection, Run
// catches up once and returns.
func TestRunWithoutConnectionsCatchesUpOnce(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t)
	i, err := archive.New(archive.Config{Enabled: true, BackupKeep: 1},
		archive.Deps{Archive: openArchive(t), API: slack.New(ws.BotToken(), slack.OptionAPIURL(ws.APIURL()))})
	if err != nil {
		t.Fatal(err)
	}
	if err := i.Run(t.Context()); err != nil || ws.Calls("conversations.list") != 1 {
		t.Fatalf("Run = %v with %d catch-ups; want nil and one", err, ws.Calls("conversations.list"))
	}
}

// TestRunReportsAWaitFailure: an error from WaitConnection that is not the
// end of Run's context ends Run with it.
func TestRunReportsAWaitFailure(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t)
	broken := errors.New("runtime stopped")
	i, err := archive.New(archive.Config{Enabled: true, BackupKeep: 1}, archive.Deps{Archive: openArchive(t),
		API:            slack.New(ws.BotToken(), slack.OptionAPIURL(ws.APIURL())),
		WaitConnection: func(context.Context, uint64) (uint64, error) { return 0, broken }})
	if err != nil {
		t.Fatal(err)
	}
	if err := i.Run(t.Context()); !errors.Is(err, broken) {
		t.Fatalf("Run = %v, want %v", err, broken)
	}
}

// TestCatchUpAfterReconnect: with the real runtime, a message said while
// the Socket Mode connection was down is archived once it is back, with no
// job and no polling.
func TestCatchUpAfterReconnect(t *testing.T) {
	t.Parallel()
	ws := slacktest.New(t)
	var a *sqlitearchive.Archive
	var i *archive.Integration
	waits := make(chan uint64, 8)
	path := filepath.Join(t.TempDir(), "townhall.db")
	integrationtest.Start(t, integrationtest.Options{Workspace: ws, DatabasePath: path},
		func(e *integrationtest.Env) (integrations.Integration, error) {
			var err error
			if a, err = sqlitearchive.Open(context.Background(), path); err != nil {
				return nil, err
			}
			t.Cleanup(func() { a.Close() })
			i, err = archive.New(archive.Config{Enabled: true, BackupKeep: 1, CatchUpLookback: time.Hour},
				archive.Deps{Archive: a, API: e.Runtime.API(), Now: e.Now,
					WaitConnection: func(ctx context.Context, seen uint64) (uint64, error) {
						waits <- seen // Run is done with connection seen (and its catch-up)
						return e.Runtime.WaitConnection(ctx, seen)
					}})
			return i, err
		})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- i.Run(ctx) }()
	defer func() {
		cancel()
		if err := receive(t, done); err != nil {
			t.Errorf("Run = %v", err)
		}
	}()

	receive(t, waits) // 0: waiting for the first connection
	if got := receive(t, waits); got != 1 {
		t.Fatalf("waits for the connection after %d, want after 1", got)
	}
	ws.AddMessage(slacktest.Message{Channel: slacktest.GeneralID, Text: "said while the connection was down"})
	ws.DropConnections()
	if got := receive(t, waits); got < 2 {
		t.Fatalf("waits for the connection after %d, want after a reconnect", got)
	}
	ms, err := a.Messages(t.Context(), archive.MessageQuery{Channel: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range ms {
		texts = append(texts, m.Text)
	}
	if got := strings.Join(texts, "|"); got != "said while the connection was down" {
		t.Errorf("archived after the reconnect: %q", got)
	}
}
