package web_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/townhall/townhall/integrations/archive"
	"github.com/townhall/townhall/integrations/archive/sqlitearchive"
	"github.com/townhall/townhall/integrations/archive/web"
)

// limitedServer serves the seeded archive as `townhall run` does: on
// web.NewServer, behind web.LimitListener, with cfg's limits.
func limitedServer(t *testing.T, cfg archive.Config) *httptest.Server {
	t.Helper()
	a, err := sqlitearchive.Open(t.Context(), filepath.Join(t.TempDir(), "townhall.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	seed(t, a)
	h, err := web.New(cfg, a, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config = web.NewServer(cfg, h)
	srv.Listener = web.LimitListener(cfg, srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// dial opens a raw connection that gives up after a generous bound, so a
// server that never answers fails the test instead of hanging it.
func dial(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func TestServerDropsASlowClient(t *testing.T) {
	t.Parallel()
	srv := limitedServer(t, archive.Config{ReadTimeout: 200 * time.Millisecond})
	c := dial(t, srv)
	if _, err := io.WriteString(c, "GET /c/general/ HTTP/1.1\r\nHost: archive\r\nUser-Agent: slow"); err != nil { // and never the rest
		t.Fatal(err)
	}
	start := time.Now()
	_, err := io.ReadAll(c) // returns when the server closes the connection
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server still holds a client that sent half a request after %s", time.Since(start))
		}
	}
	// The client that finishes its request is served as usual.
	resp, err := srv.Client().Get(srv.URL + "/c/general/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a normal request after the slow one: %v, %v", resp, err)
	}
	resp.Body.Close()
}

func TestServerLimitsConnections(t *testing.T) {
	t.Parallel()
	srv := limitedServer(t, archive.Config{MaxConns: 2, ReadTimeout: time.Minute})
	// Two clients that connect and say nothing hold both connections.
	idle1, _ := dial(t, srv), dial(t, srv)
	// A third waits to be accepted: its request is not answered.
	third := dial(t, srv)
	if _, err := io.WriteString(third, "GET /robots.txt HTTP/1.1\r\nHost: archive\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := third.Read(make([]byte, 1)); n > 0 || err == nil {
		t.Fatal("a third connection was served while two were open, with a limit of two")
	}
	// One closes: the waiting client is accepted and served.
	idle1.Close()
	third.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("the waiting client once a connection closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d", resp.StatusCode)
	}
}

func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	s := web.NewServer(archive.Config{}, http.NotFoundHandler())
	if s.ReadHeaderTimeout != 5*time.Second || s.ReadTimeout != 10*time.Second || s.WriteTimeout != 30*time.Second || s.IdleTimeout != time.Minute {
		t.Errorf("default limits: header %s, read %s, write %s, idle %s", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
	s = web.NewServer(archive.Config{ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second}, http.NotFoundHandler())
	if s.ReadHeaderTimeout != 2*time.Second || s.ReadTimeout != 2*time.Second || s.WriteTimeout != 3*time.Second || s.IdleTimeout != 4*time.Second {
		t.Errorf("configured limits: header %s, read %s, write %s, idle %s", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	srv := serveFilled(t, archive.Config{}, web.Options{}, func(t testing.TB, a archive.Archive) {
		seed(t, a)
		for _, u := range []archive.User{
			{ID: "U1", Name: "ada", RealName: "Ada Lovelace", Avatar: "https://avatars.slack-edge.com/2024-01-01/1_ab_48.jpg"},
			{ID: "U2", Name: "bob", RealName: "Bob Quiet", Avatar: "https://tracker.example.net/pixel.gif?u=bob"},
			{ID: "U4", Name: "ahmad", RealName: "أحمد الخطيب", Avatar: "https://secure.gravatar.com/avatar/0f1e?s=48&d=https%3A%2F%2Fa.slack-edge.com%2Fdf10d%2Fimg%2Favatars%2Fava_0001-48.png"},
		} {
			if err := a.PutUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
		}
	})
	resp, body := get(t, srv, "/c/general/2024-03-01")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'",
		"img-src 'self' data: https://avatars.slack-edge.com https://secure.gravatar.com https://a.slack-edge.com https://ca.slack-edge.com;"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "img-src https:") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q allows too much", csp)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("X-Frame-Options = %q", resp.Header.Get("X-Frame-Options"))
	}
	for _, want := range []string{`src="https://avatars.slack-edge.com/2024-01-01/1_ab_48.jpg"`, `src="https://secure.gravatar.com/avatar/0f1e?s=48&amp;d=https%3A%2F%2Fa.slack-edge.com`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks the avatar %s", want)
		}
	}
	if strings.Contains(body, "tracker.example.net") {
		t.Error("page shows an avatar from a host that is not Slack's")
	}
}
