package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// TestReplicasJobsEndToEnd runs three replicas (real processes of the built
// binary) against one PostgreSQL with the feeds and calendar integrations
// on, every replica scheduling the same feed poll and reminder job each
// minute, one of them SIGKILLed once connected. Every feed item and every
// reminder is posted exactly once, in two rounds a minute apart. It takes
// one to two minutes of wall time: the jobs' shortest interval is a minute.
func TestReplicasJobsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three processes for two minutes")
	}
	t.Parallel()
	dbURL := testPostgresSchema(t)
	bin := buildTownhall(t)
	ws := slacktest.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	src := &jobSources{}
	// The first poll of a new subscription posts the newest item only
	// (TOWNHALL_FEEDS_BACKFILL=1): "Old news" never goes out.
	src.addItems("Old news", "First news")
	srv := httptest.NewServer(src)
	t.Cleanup(srv.Close)

	// The jobs run on the minute. A replica killed while it runs one
	// holds that job's claim for its 10-minute lease (see the README:
	// not yet taken over from a dead replica), so the kill below comes
	// before the first minute: start with at least 10 s of it left.
	if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 10*time.Second {
		time.Sleep(left + time.Second) // the schedule's wall clock, not synchronisation
	}
	replicas := startReplicas(t, bin, ws, 3,
		"TOWNHALL_DATABASE_URL="+dbURL, "TOWNHALL_LOG_LEVEL=info", "TOWNHALL_TIMEZONE=UTC",
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
	// One replica dies before the first minute; the other two share its work.
	killed := replicas[2]
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.done
	// One event, reminded 2 and 1 minutes before: the first reminder at
	// the next minute, the second a minute later, after the kill.
	src.mu.Lock()
	src.events = []time.Time{time.Now().Truncate(time.Minute).Add(3 * time.Minute)}
	src.mu.Unlock()

	names := []string{"Old news", "First news", "Second news", "Third news", "Fourth news", "Replica meeting 0"}
	// Round one: the first poll's item and the first reminder.
	posts, err := waitPosts(ctx, ws, func(p []slacktest.Post) bool {
		n := countPosts(p, names...)
		return n["First news"] > 0 && n["Replica meeting 0"] > 0
	})
	if err != nil {
		t.Fatalf("round one: %v (%d posts)", err, len(posts))
	}

	// Round two: new items, and the event's second reminder.
	src.addItems("Second news", "Third news", "Fourth news")
	posts, err = waitPosts(ctx, ws, func(p []slacktest.Post) bool {
		n := countPosts(p, names...)
		return n["Second news"] > 0 && n["Third news"] > 0 && n["Fourth news"] > 0 && n["Replica meeting 0"] > 1
	})
	if err != nil {
		t.Fatalf("round two: %v (%d posts)", err, len(posts))
	}
	for _, r := range replicas[:2] {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, r := range replicas[:2] {
		if err := <-r.done; err != nil {
			t.Errorf("replica %d: %v", i+1, err)
		}
	}

	n := countPosts(ws.Posts(), names...)
	want := map[string]int{"Old news": 0, "First news": 1, "Second news": 1, "Third news": 1, "Fourth news": 1, "Replica meeting 0": 2}
	for _, name := range names {
		if n[name] != want[name] {
			t.Errorf("%q posted %d times, want %d", name, n[name], want[name])
		}
	}
	t.Logf("3 replicas, one SIGKILLed before the first minute: %d feed items and %d reminders, each posted once", 4, 2)
}
