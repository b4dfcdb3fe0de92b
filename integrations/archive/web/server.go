package web

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"

	"github.com/townhall/townhall/integrations/archive"
)

// maxHeaderTime bounds the reading of a request's headers, whatever
// TOWNHALL_ARCHIVE_READ_TIMEOUT allows for the whole request.
const maxHeaderTime = 5 * time.Second

// NewServer returns the server of the web archive h with cfg's limits: a
// client that sends its request slowly, never reads its response or sits
// idle is dropped after TOWNHALL_ARCHIVE_READ_TIMEOUT,
// TOWNHALL_ARCHIVE_WRITE_TIMEOUT and TOWNHALL_ARCHIVE_IDLE_TIMEOUT (zero
// values: the defaults). Serve it on LimitListener's listener.
func NewServer(cfg archive.Config, h http.Handler) *http.Server {
	read := durationOr(cfg.ReadTimeout, 10*time.Second)
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(read, maxHeaderTime),
		ReadTimeout:       read,
		WriteTimeout:      durationOr(cfg.WriteTimeout, 30*time.Second),
		IdleTimeout:       durationOr(cfg.IdleTimeout, 60*time.Second),
		MaxHeaderBytes:    16 << 10, // a browser's request needs a few KB
	}
}

// LimitListener returns ln accepting at most TOWNHALL_ARCHIVE_MAX_CONNS
// connections at once (zero: 256); further clients wait in the kernel's
// backlog until one closes.
func LimitListener(cfg archive.Config, ln net.Listener) net.Listener {
	n := cfg.MaxConns
	if n <= 0 {
		n = 256
	}
	return netutil.LimitListener(ln, n)
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
