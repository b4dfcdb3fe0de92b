package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// testPostgresSchema creates a schema of its own on the test PostgreSQL
// (TOWNHALL_TEST_DATABASE_URL, or the project's local one) and returns a
// URL whose connections use it; it is dropped when the test ends. Without
// a PostgreSQL the test is skipped, unless TOWNHALL_TEST_REQUIRE_POSTGRES
// is set.
func testPostgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TOWNHALL_TEST_DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("TOWNHALL_TEST_REQUIRE_POSTGRES") != "" {
			t.Fatal(err)
		}
		t.Skipf("no PostgreSQL (set TOWNHALL_TEST_DATABASE_URL): %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "replicas_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// replica is one townhall process of the built binary.
type replica struct {
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan error
}

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

// item is one command or event the test sends, and what it saw of it.
type item struct {
	id      string // "[c0001]" in a command's topic, or an event's ts
	command bool
	channel string
	conns   []int // connections its deliveries were written to
}

// buildTownhall builds the townhall binary for a test that runs it.
func buildTownhall(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "townhall")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startReplicas starts n processes of bin running against ws, each with
// env beside the Slack variables. When the test ends, those still running
// are killed; a token in any one's logs fails the test, and a failed
// test shows the end of each one's logs.
func startReplicas(t *testing.T, bin string, ws *slacktest.Server, n int, env ...string) []*replica {
	t.Helper()
	var replicas []*replica
	for range n {
		cmd := exec.Command(bin, "run")
		cmd.Dir = t.TempDir()
		cmd.Env = append([]string{"SLACK_APP_TOKEN=" + ws.AppToken(), "SLACK_BOT_TOKEN=" + ws.BotToken(), "SLACK_API_URL=" + ws.APIURL()}, env...)
		r := &replica{cmd: cmd, logs: &lockedBuffer{}, done: make(chan error, 1)}
		cmd.Stdout, cmd.Stderr = r.logs, r.logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { r.done <- cmd.Wait() }()
		replicas = append(replicas, r)
	}
	t.Cleanup(func() {
		for i, r := range replicas {
			if r.cmd.ProcessState == nil {
				r.cmd.Process.Kill()
				<-r.done
			}
			logs := r.logs.String()
			if strings.Contains(logs, ws.AppToken()) || strings.Contains(logs, ws.BotToken()) {
				t.Errorf("replica %d: a token appeared in its logs", i+1)
			}
			if t.Failed() {
				t.Logf("replica %d logs (last 4 KB):\n%s", i+1, logs[max(0, len(logs)-4096):])
			}
		}
	})
	return replicas
}

// TestReplicasEndToEnd runs three replicas, real processes of the built
// binary, against one PostgreSQL and the fake Slack workspace, which
// spreads envelopes over their three connections. Commands and events are
// sent, a tenth redelivered (to another connection than the first), and
// halfway through one replica is killed with SIGKILL. Every command and
// event is answered exactly once: what the killed replica had acknowledged
// and not yet answered (Slack does not redeliver it) is in the shared
// journal, and a survivor replays it once the killed replica's heartbeat
// is older than TOWNHALL_REPLICA_TIMEOUT, within replayBound.
func TestReplicasEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three processes")
	}
	t.Parallel()
	dbURL := testPostgresSchema(t)
	bin := buildTownhall(t)

	const (
		commands = 1000
		events   = 200
		channels = 50
	)
	opts := []slacktest.Option{}
	for i := range channels {
		opts = append(opts, slacktest.WithChannel(slacktest.Channel{ID: fmt.Sprintf("C0E2E%03d", i), Name: fmt.Sprintf("e2e-%03d", i), IsMember: true}))
	}
	ws := slacktest.New(t, opts...)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	replicas := startReplicas(t, bin, ws, 3,
		"TOWNHALL_DATABASE_URL="+dbURL, "TOWNHALL_LOG_LEVEL=info", "TOWNHALL_SHUTDOWN_TIMEOUT=20s",
		// Dead after 3 s without a heartbeat (beats every second);
		// a dead replica's claims end 20 s + 3 s after it took them.
		// (Mentions wait for their channel's pacing, 1 s a post, and
		// the replays add to it: a shorter handler timeout cuts some
		// short.)
		"TOWNHALL_REPLICA_TIMEOUT=3s", "TOWNHALL_HANDLER_TIMEOUT=20s",
	)
	if err := ws.WaitConnected(ctx, 3); err != nil {
		t.Fatal(err)
	}

	// Every replica's heartbeat is in the shared database: status on any
	// one lists all three.
	env, err := ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/townhall", Text: "status", UserID: slacktest.AdminID, ChannelID: slacktest.GeneralID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.WaitAck(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	posts, err := ws.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if status := slacktest.Render(posts[0]); strings.Count(status, "last heartbeat") != 3 || !strings.Contains(status, "(this one)") {
		t.Errorf("status lists %d replicas, want 3:\n%s", strings.Count(status, "last heartbeat"), status)
	}
	base := len(posts)

	var items []*item
	for i := range commands {
		items = append(items, &item{id: fmt.Sprintf("[c%04d]", i), command: true, channel: slacktest.GeneralID})
	}
	for i := range events {
		// Interleave the events among the commands.
		at := (i*commands)/events + i
		it := &item{id: fmt.Sprintf("1700000000.%06d", i), channel: fmt.Sprintf("C0E2E%03d", i%channels)}
		items = append(items[:at], append([]*item{it}, items[at:]...)...)
	}

	send := func(k int, it *item) error {
		var env slacktest.Envelope
		var err error
		if it.command {
			env, err = ws.SlashCommand(ctx, slacktest.SlashCommand{Command: "/call", Text: it.id, UserID: slacktest.MemberID, ChannelID: it.channel})
		} else {
			env, err = ws.Event(ctx, map[string]any{
				"type": "app_mention", "user": slacktest.MemberID, "channel": it.channel,
				"text": "<@" + slacktest.DefaultBotUserID + "> help", "ts": it.id,
			})
		}
		if err != nil {
			return err
		}
		it.conns = append(it.conns, env.Conn)
		if _, err := ws.WaitAck(ctx, env.ID); err != nil {
			return err
		}
		if k%10 == 0 {
			again, err := ws.Redeliver(ctx, env)
			if err != nil {
				return err
			}
			it.conns = append(it.conns, again.Conn)
			if _, err := ws.WaitAck(ctx, again.ID); err != nil {
				return err
			}
		}
		return nil
	}

	// Sixteen senders at a time, as many users would.
	const senders, window = 16, 48
	killAt := len(items) / 2
	var (
		next      = make(chan int)
		wg        sync.WaitGroup
		errMu     sync.Mutex
		firstErr  error
		killOnce  sync.Once
		killed    = replicas[2]
		killTime  time.Time
		startTime = time.Now()
	)
	for range senders {
		wg.Go(func() {
			for k := range next {
				if err := send(k, items[k]); err != nil {
					errMu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("item %d %s: %w", k, items[k].id, err))
					errMu.Unlock()
				}
			}
		})
	}
	for k := range items {
		// At most window items are unanswered at once, as with users who
		// wait for an answer; the killed replica can have held no more.
		need := k - window
		if k > killAt {
			need -= window
		}
		if need > 0 {
			if _, err := ws.WaitPosts(ctx, base+need); err != nil {
				t.Fatalf("before item %d: %v (%d answers)", k, err, len(ws.Posts()))
			}
		}
		if k == killAt {
			killOnce.Do(func() {
				killTime = time.Now()
				if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Error(err)
				}
			})
		}
		next <- k
	}
	close(next)
	wg.Wait()
	sent := time.Since(startTime)
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	<-killed.done

	// Every item is answered, the killed replica's by replay: its
	// heartbeat ages past the timeout (3 s), a survivor takes its journal
	// entries over within a beat (1 s), and the claims it held by the
	// same rule (store.WithOwner), not when their leases (handler timeout
	// 20 s + 3 s) end.
	const replayBound = 60 * time.Second
	wctx, wcancel := context.WithTimeout(ctx, replayBound)
	_, err = ws.WaitPosts(wctx, base+len(items))
	wcancel()
	allAnswered := time.Since(killTime)
	if err != nil {
		t.Errorf("%d of %d items answered %v after the kill: %v", len(ws.Posts())-base, len(items), allAnswered.Round(time.Millisecond), err)
	}

	// The survivors stop gracefully: each finishes what it has in hand.
	for _, r := range replicas[:2] {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, r := range replicas[:2] {
		if err := <-r.done; err != nil {
			t.Errorf("replica %d: %v", i+1, err)
		}
	}

	// Count the answers.
	answers := make(map[string]int)
	for _, p := range ws.Posts() {
		switch {
		case p.Method == slacktest.MethodResponseURL:
			if i := strings.Index(p.Text, "[c"); i >= 0 && len(p.Text) >= i+7 {
				answers[p.Text[i:i+7]]++
			}
		case p.ThreadTS != "":
			answers[p.ThreadTS]++
		}
	}
	// An answer that left the killed replica in the moment between its
	// sending and the confirmation of its claim (one database round-trip)
	// is given again by the replay: nothing tells the replay it was
	// given. A few such items, each delivered to the killed replica
	// (first, or as the redelivery it claimed before the other could),
	// are the price of losing none; anything else answered twice is a
	// bug, and shows as answers twice with no connection in common. How
	// many depends on how long that round-trip takes: none or one a run
	// on a quiet machine, up to 5 under -race on a loaded one. The bound
	// is what the killed replica can have had in hand: its third of the
	// window of unanswered items.
	const maxRepeated = window / 3
	var lost, repeated []*item
	var common []int // the connections every item answered twice was delivered on
	for _, it := range items {
		switch n := answers[it.id]; {
		case n == 2:
			if repeated == nil {
				common = slices.Clone(it.conns)
			} else {
				common = slices.DeleteFunc(common, func(c int) bool { return !slices.Contains(it.conns, c) })
			}
			repeated = append(repeated, it)
			t.Logf("%s answered twice (delivered on connections %v): the killed replica's answer, then the replay's", it.id, it.conns)
		case n > 2:
			t.Errorf("%s answered %d times (deliveries on connections %v)", it.id, n, it.conns)
		case n == 0:
			lost = append(lost, it)
			t.Errorf("%s unanswered, delivered on connections %v", it.id, it.conns)
		}
	}
	if len(repeated) > 0 && len(common) == 0 {
		t.Errorf("%d items answered twice with no connection in common: they cannot all be the killed replica's", len(repeated))
	}
	if len(lost) > 0 {
		t.Errorf("%d of %d unanswered; want none", len(lost), len(items))
	}
	if len(repeated) > maxRepeated {
		t.Errorf("%d items answered twice; want at most %d (those the killed replica answered as it died)", len(repeated), maxRepeated)
	}
	dropped, replayed := 0, 0
	for _, r := range replicas {
		logs := r.logs.String()
		dropped += strings.Count(logs, "slack redelivery dropped")
		replayed += strings.Count(logs, "journal: replaying a request of a dead replica")
	}
	t.Logf("%d commands and %d events (a tenth redelivered elsewhere) over 3 replicas in %v, one SIGKILLed halfway: "+
		"%d redeliveries dropped, %d requests of the killed replica replayed, %d unanswered, %d answered twice; all answered %v after the kill",
		commands, events, sent.Round(time.Millisecond), dropped, replayed, len(lost), len(repeated), allAnswered.Round(time.Millisecond))
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
