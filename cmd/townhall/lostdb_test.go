package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/townhall/townhall/slackapp/slacktest"
	"github.com/townhall/townhall/store"
)

// dbLink is a TCP proxy to PostgreSQL that a test can cut, as a lost
// database (or network) would, and restore on the same address.
type dbLink struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newDBLink(t *testing.T, target string) *dbLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &dbLink{ln: ln, target: target, conns: make(map[net.Conn]bool)}
	l.wg.Go(l.accept)
	t.Cleanup(func() {
		ln.Close()
		l.cut()
		l.wg.Wait()
	})
	return l
}

func (l *dbLink) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		down := l.down
		if !down {
			l.conns[c] = true
		}
		l.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		l.wg.Go(func() { l.pipe(c) })
	}
}

func (l *dbLink) pipe(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", l.target)
	if err != nil {
		return
	}
	l.mu.Lock()
	l.conns[up] = true
	l.mu.Unlock()
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
}

// cut closes every connection and refuses new ones until restore.
func (l *dbLink) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = true
	for c := range l.conns {
		c.Close()
		delete(l.conns, c)
	}
}

func (l *dbLink) restore() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = false
}

// TestLostDatabase: while PostgreSQL is unreachable, the app keeps
// acknowledging and answering what needs no database, status says the
// database is away, and once it is back the app uses it again by itself.
func TestLostDatabase(t *testing.T) {
	t.Parallel()
	dbURL := testPostgresSchema(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	link := newDBLink(t, u.Host)
	u.Host = link.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	e := startApp(t, func(c *config) { c.Store.DatabaseURL = store.PostgresURL(u.String()) })

	status := func() string {
		posts := e.command(t, slacktest.AdminID, slacktest.GeneralID, "/townhall", "status")
		if len(posts) != 1 {
			t.Fatalf("status: %d posts", len(posts))
		}
		return slacktest.Render(posts[0])
	}
	if s := status(); !strings.Contains(s, "(this one)") {
		t.Fatalf("status before the outage lacks this replica:\n%s", s)
	}

	link.cut()
	posts := e.command(t, slacktest.MemberID, slacktest.GeneralID, "/call", "while the database is away")
	if len(posts) != 1 || !strings.Contains(posts[0].Text, "while the database is away") {
		t.Fatalf("/call during the outage: %+v; want it answered", posts)
	}
	if s := status(); !strings.Contains(s, "replicas unknown: the database is unavailable") {
		t.Errorf("status during the outage does not say the database is away:\n%s", s)
	}
	if !strings.Contains(e.logs.String(), "shared dedup unavailable") {
		t.Errorf("logs do not say the shared dedup was skipped")
	}

	link.restore()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.app.store.Ping(ctx); err != nil {
		t.Fatalf("the store did not come back by itself: %v", err)
	}
	if s := status(); !strings.Contains(s, "(this one)") {
		t.Errorf("status after the outage lacks this replica:\n%s", s)
	}
	posts = e.command(t, slacktest.MemberID, slacktest.GeneralID, "/call", "after")
	if len(posts) != 1 {
		t.Fatalf("/call after the outage: %+v", posts)
	}
}
