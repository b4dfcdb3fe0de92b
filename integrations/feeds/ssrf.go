package feeds

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// errPrivateAddress is returned (wrapped) when a feed fetch would connect
// to a loopback, private, link-local or otherwise internal address. Users
// are told only that the address could not be reached, as for any other
// failure to connect, so a refusal says nothing of what listens there.
var errPrivateAddress = errors.New("the address is on a private network (TOWNHALL_FEEDS_ALLOW_PRIVATE=true allows it)")

// internalPrefixes are the ranges, beyond what netip.Addr's own predicates
// (loopback, private, link-local, multicast, unspecified) catch, that a
// feed fetch must not reach: "this network", carrier-grade NAT, IETF
// protocol assignments, documentation and benchmarking ranges, reserved
// space and broadcast (RFC 6890), IPv6 discard, documentation and the
// deprecated site-local range.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fec0::/10"),
}

// Prefixes whose addresses carry an IPv4 address, which is checked in
// turn: NAT64 (RFC 6052, RFC 8215), 6to4 (RFC 3056) and the deprecated
// IPv4-compatible form.
var (
	nat64       = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48")}
	sixToFour   = netip.MustParsePrefix("2002::/16")
	v4Compat    = netip.MustParsePrefix("::/96")
	maxEmbedded = 2 // NAT64 inside 6to4 is as deep as it gets
)

// internalAddr reports whether a is an address a feed fetch must not
// reach.
func internalAddr(a netip.Addr) bool { return internalAddrDepth(a.Unmap(), maxEmbedded) }

func internalAddrDepth(a netip.Addr, depth int) bool {
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return true
	}
	if a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	if !a.Is6() || depth == 0 {
		return false
	}
	b := a.As16()
	embedded := func(v4 []byte) bool {
		return internalAddrDepth(netip.AddrFrom4([4]byte(v4)), depth-1)
	}
	for _, p := range nat64 {
		if p.Contains(a) {
			return embedded(b[12:16])
		}
	}
	switch {
	case sixToFour.Contains(a):
		return embedded(b[2:6])
	case v4Compat.Contains(a):
		return embedded(b[12:16])
	}
	return false
}

// dialGuard is a net.Dialer.Control that refuses to connect to internal
// addresses. It runs after name resolution, on every connection: redirects,
// a page's advertised feed and a name that resolves differently the next
// time are all covered. exempt, when not nil, lets tests reach their own
// servers.
func dialGuard(exempt func(netip.AddrPort) bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s %s: %w", network, address, errPrivateAddress)
		}
		if internalAddr(ap.Addr()) && (exempt == nil || !exempt(ap)) {
			return fmt.Errorf("dial %s %s: %w", network, address, errPrivateAddress)
		}
		return nil
	}
}

// feedClient is base (or a default client) with a transport that refuses
// internal addresses unless allowPrivate; X's client is left alone, its
// address being the operator's. base's Transport must be nil or an
// *http.Transport, whose settings are kept.
func feedClient(base *http.Client, allowPrivate bool, exempt func(netip.AddrPort) bool) (*http.Client, error) {
	if base == nil {
		base = &http.Client{}
	}
	if allowPrivate {
		return base, nil
	}
	var tr *http.Transport
	switch t := base.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return nil, fmt.Errorf("Deps.HTTPClient's Transport is a %T: feed fetches need an *http.Transport (or none) to refuse private addresses, or TOWNHALL_FEEDS_ALLOW_PRIVATE=true", t)
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: dialGuard(exempt)}
	tr.DialContext = d.DialContext
	tr.DialTLSContext = nil // TLS dials through DialContext too
	c := *base
	c.Transport = tr
	return &c, nil
}
