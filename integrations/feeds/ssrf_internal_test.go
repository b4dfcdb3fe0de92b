package feeds

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestInternalAddr(t *testing.T) {
	t.Parallel()
	for _, a := range []string{
		"127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "0.1.2.3", "192.0.0.8", "198.18.0.1", "240.0.0.1", "255.255.255.255", "224.0.0.1",
		"::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1", "2001:db8::1",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", // IPv4-mapped
		"64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::", "2002:c0a8:101::1", "::127.0.0.1",
	} {
		if !internalAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s is not refused", a)
		}
	}
	for _, a := range []string{"93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a03:2880:f12f:83:face:b00c::25de", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"} {
		if internalAddr(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused", a)
		}
	}
}

// The guard checks every connection after name resolution, so neither a
// redirect nor a page advertising a feed reaches an internal address, by
// number or by name. Here the first server stands for a public site.
func TestDialGuardCoversRedirectsAndAdvertisedFeeds(t *testing.T) {
	t.Parallel()
	var internalHits atomic.Int64
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		_, _ = w.Write([]byte(`<rss version="2.0"><channel><title>secret</title><item><guid>1</guid><title>internal</title></item></channel></rss>`))
	}))
	t.Cleanup(internal.Close)
	port := internal.Listener.Addr().(*net.TCPAddr).Port
	target := map[string]string{
		"/to-ip":        internal.URL + "/feed",
		"/to-localhost": "http://localhost:" + strconv.Itoa(port) + "/feed",
		"/to-ipv6":      "http://[::ffff:127.0.0.1]:" + strconv.Itoa(port) + "/feed",
	}
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/page" {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html><head><link rel="alternate" type="application/rss+xml" href="` + internal.URL + `/feed"></head><body></body></html>`))
			return
		}
		http.Redirect(w, r, target[r.URL.Path], http.StatusFound)
	}))
	t.Cleanup(public.Close)
	publicAddr := netip.MustParseAddrPort(public.Listener.Addr().String())
	hc, err := feedClient(nil, false, func(ap netip.AddrPort) bool { return ap == publicAddr })
	if err != nil {
		t.Fatal(err)
	}
	i := &Integration{cfg: Config{FetchTimeout: 5 * time.Second}, log: slog.New(slog.DiscardHandler), fetch: &fetcher{hc: hc, maxBytes: 1 << 20, now: time.Now}}
	for _, path := range []string{"/to-ip", "/to-localhost", "/to-ipv6", "/page"} {
		_, msg := i.checkFeed(t.Context(), public.URL+path)
		if msg == nil || !strings.Contains(msg.Text, "("+unreachable+"); nothing was added") {
			t.Errorf("%s: answer %+v, want the address refused as unreachable", path, msg)
		}
	}
	_, err = i.fetch.get(t.Context(), public.URL+"/to-ip", "", "")
	if !errors.Is(err, errPrivateAddress) {
		t.Errorf("err = %v, want errPrivateAddress", err)
	}
	if n := internalHits.Load(); n != 0 {
		t.Errorf("the internal server was asked %d times", n)
	}
	// Allowed, the same redirect is followed.
	open, err := feedClient(nil, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	i.fetch.hc = open
	if feedURL, msg := i.checkFeed(t.Context(), public.URL+"/to-ip"); msg != nil || feedURL != public.URL+"/to-ip" {
		t.Errorf("allowed: %q, %+v", feedURL, msg)
	}
}
