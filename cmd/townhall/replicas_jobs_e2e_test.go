package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp/slacktest"
)

// jobSources serves one RSS feed and one ICS calendar whose contents the
// test changes as it goes.
type jobSources struct {
	mu     sync.Mutex
	items  []string // feed item titles, oldest first
	events []time.Time
}

func (s *jobSources) addItems(titles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, titles...)
}

func (s *jobSources) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/feed.xml":
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Replica news</title><link>http://news.example/</link>`)
		for i := len(s.items) - 1; i >= 0; i-- { // newest first, as feeds are
			fmt.Fprintf(&b, `<item><title>%s</title><link>http://news.example/%d</link><guid>http://news.example/%d</guid><pubDate>%s</pubDate></item>`,
				s.items[i], i, i, time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC).Format(time.RFC1123Z))
		}
		b.WriteString(`</channel></rss>`)
		fmt.Fprint(w, b.String())
	case "/cal.ics":
		w.Header().Set("Content-Type", "text/calendar")
		var b strings.Builder
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//townhall//replicas e2e//EN\r\n")
		for i, at := range s.events {
			fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:replica-e2e-%d@townhall\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Replica meeting %d\r\nEND:VEVENT\r\n",
				i, at.UTC().Format("20060102T150405Z"), at.Add(time.Hour).UTC().Format("20060102T150405Z"), i)
		}
		b.WriteString("END:VCALENDAR\r\n")
		fmt.Fprint(w, b.String())
	default:
		http.NotFound(w, r)
	}
}

// waitPosts waits until ok holds for the workspace's posts.
func waitPosts(ctx context.Context, ws *slacktest.Server, ok func([]slacktest.Post) bool) ([]slacktest.Post, error) {
	for {
		posts := ws.Posts()
		if ok(posts) {
			return posts, nil
		}
		if _, err := ws.WaitPosts(ctx, len(posts)+1); err != nil {
			return posts, err
		}
	}
}

// countPosts counts, for each of names, the posts whose rendering holds it.
func countPosts(posts []slacktest.Post, names ...string) map[string]int {
	n := make(map[string]int)
	for _, p := range posts {
		r := slacktest.Render(p)
		for _, name := range names {
			if strings.Contains(r, name) {
				n[name]++
			}
		}
	}
	return n
}

// pidOfPeer returns which of the processes pids holds the TCP connection
// from the address from to the server at server (host:port both): the
// test's way of knowing which replica made a held call. It reads Linux's
// /proc: the connection's socket inode in /proc/net/tcp{,6}, then the
// process with a descriptor on it. Sockets without an inode (closed ones
// in TIME_WAIT, which may share the port) are passed over.
func pidOfPeer(from, server string, pids []int) (int, error) {
	hexPort := func(addr string) (string, error) {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			return "", err
		}
		n, err := strconv.ParseUint(p, 10, 16)
		return fmt.Sprintf(":%04X", n), err
	}
	local, err := hexPort(from)
	if err != nil {
		return 0, err
	}
	remote, err := hexPort(server)
	if err != nil {
		return 0, err
	}
	var inode string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && strings.HasSuffix(f[1], local) && strings.HasSuffix(f[2], remote) && f[9] != "0" {
				inode = f[9]
			}
		}
	}
	if inode == "" {
		return 0, fmt.Errorf("no open socket from %s to %s in /proc/net/tcp", from, server)
	}
	want := "socket:[" + inode + "]"
	for _, pid := range pids {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			continue // exited
		}
		for _, fd := range fds {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && l == want {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process of %v holds %s (%s)", pids, want, from)
}

// TestReplicasJobsEndToEnd runs three replicas (real processes of the built
// binary) against one PostgreSQL with the feeds and calendar integrations
// on, every replica scheduling the same feed poll and reminder job each
// minute, and kills two of them mid-job: the workspace holds a job's post
// unanswered, and the replica making it is SIGKILLed holding the job's
// lock and the post's claim. A survivor takes those over once the dead
// replica's heartbeat is TOWNHALL_REPLICA_TIMEOUT old, not when their
// 10-minute leases end. Every feed item and reminder is posted exactly
// once, and the reminder before its event starts. Rounds: (1) all alive,
// the first feed item and the first reminder; (2) the second reminder's
// post held, its replica killed; (3) new feed items, the first one's post
// held, its replica killed. It takes three to four minutes of wall time:
// the jobs run each minute.
func TestReplicasJobsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three processes for three minutes")
	}
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("needs Linux's /proc to tell which replica made a call")
	}
	t.Parallel()
	dbURL := testPostgresSchema(t)
	bin := buildTownhall(t)
	ws := slacktest.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 7*time.Minute)
	defer cancel()

	src := &jobSources{}
	// The first poll of a new subscription posts the newest item only
	// (TOWNHALL_FEEDS_BACKFILL=1): "Old news" never goes out.
	src.addItems("Old news", "First news")
	// One event, reminded 2 and 1 minutes before: the first reminder at
	// the next minute (or the one after, when the next is too near for
	// the replicas to have started), the second a minute later.
	start := time.Now().Truncate(time.Minute).Add(3 * time.Minute)
	if time.Until(start.Add(-2*time.Minute)) < 15*time.Second {
		start = start.Add(time.Minute)
	}
	src.events = []time.Time{start}
	srv := httptest.NewServer(src)
	t.Cleanup(srv.Close)

	replicas := startReplicas(t, bin, ws, 3,
		"TOWNHALL_DATABASE_URL="+dbURL, "TOWNHALL_LOG_LEVEL=info", "TOWNHALL_TIMEZONE=UTC",
		"TOWNHALL_REPLICA_TIMEOUT=5s",
		"TOWNHALL_FEEDS_ENABLED=true", "TOWNHALL_FEEDS_ALLOW_PRIVATE=true", "TOWNHALL_FEEDS_INTERVAL=1m",
		"TOWNHALL_FEEDS_SOURCES="+srv.URL+"/feed.xml -> #general",
		"TOWNHALL_CALENDAR_ENABLED=true", "TOWNHALL_CALENDAR_POLL_INTERVAL=1m", "TOWNHALL_CALENDAR_REMINDERS=2m,1m",
		"TOWNHALL_CALENDAR_RSVP=false", "TOWNHALL_CALENDAR_SOURCES=ics:"+srv.URL+"/cal.ics=#general",
	)
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range ws.Posts() {
				t.Logf("post: %s", slacktest.Render(p))
			}
		}
	})
	if err := ws.WaitConnected(ctx, 3); err != nil {
		t.Fatal(err)
	}
	wsURL, err := url.Parse(ws.URL())
	if err != nil {
		t.Fatal(err)
	}
	wsAddr := wsURL.Host
	pids := make([]int, len(replicas))
	for i, r := range replicas {
		pids[i] = r.cmd.Process.Pid
	}
	alive := slices.Clone(replicas)
	// killMaker SIGKILLs the replica whose call h holds and checks that
	// the call was dropped with it.
	killMaker := func(round string, h *slacktest.Hold) {
		t.Helper()
		from, err := h.Wait(ctx)
		if err != nil {
			t.Fatalf("%s: the held post never came: %v", round, err)
		}
		pid, err := pidOfPeer(from, wsAddr, pids)
		if err != nil {
			t.Fatalf("%s: %v", round, err)
		}
		i := slices.Index(pids, pid)
		r := replicas[i]
		if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-r.done
		alive = slices.DeleteFunc(alive, func(a *replica) bool { return a == r })
		if served, err := h.Ended(ctx); err != nil || served {
			t.Fatalf("%s: held post served %t, %v; want it dropped with its replica", round, served, err)
		}
		t.Logf("%s: replica %d SIGKILLed at %s while its post was held", round, i+1, time.Now().Format(time.TimeOnly))
	}
	names := []string{"Old news", "First news", "Second news", "Third news", "Fourth news", "Replica meeting 0"}
	wait := func(round string, ok func(n map[string]int) bool) {
		t.Helper()
		posts, err := waitPosts(ctx, ws, func(p []slacktest.Post) bool { return ok(countPosts(p, names...)) })
		if err != nil {
			t.Fatalf("%s: %v (%d posts)", round, err, len(posts))
		}
		t.Logf("%s: done at %s", round, time.Now().Format(time.TimeOnly))
	}

	wait("round one", func(n map[string]int) bool { return n["First news"] > 0 && n["Replica meeting 0"] > 0 })

	// Round two: the next post is the second reminder (the feed has
	// nothing new), held; its maker is killed holding the reminder job.
	killMaker("round two", ws.HoldNext("chat.postMessage"))
	wait("round two", func(n map[string]int) bool { return n["Replica meeting 0"] > 1 })
	if now := time.Now(); !now.Before(start) {
		t.Errorf("the second reminder came at %s, after its event's start at %s", now.Format(time.TimeOnly), start.Format(time.TimeOnly))
	}

	// Round three: new items; the first one's post is held and its
	// maker killed mid-poll. The last replica posts all three.
	h := ws.HoldNext("chat.postMessage")
	src.addItems("Second news", "Third news", "Fourth news")
	killMaker("round three", h)
	wait("round three", func(n map[string]int) bool {
		return n["Second news"] > 0 && n["Third news"] > 0 && n["Fourth news"] > 0
	})

	for _, r := range alive {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, r := range alive {
		if err := <-r.done; err != nil {
			t.Errorf("replica %d: %v", slices.Index(replicas, r)+1, err)
		}
	}
	n := countPosts(ws.Posts(), names...)
	want := map[string]int{"Old news": 0, "First news": 1, "Second news": 1, "Third news": 1, "Fourth news": 1, "Replica meeting 0": 2}
	for _, name := range names {
		if n[name] != want[name] {
			t.Errorf("%q posted %d times, want %d", name, n[name], want[name])
		}
	}
	t.Logf("3 replicas, 2 SIGKILLed mid-job: 4 feed items and 2 reminders, each posted once")
}
