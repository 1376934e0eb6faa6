package api

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the address that failed authentications of r count against: the TCP
// peer, unless the peer lies in trusted; then the right-most X-Forwarded-For address that is
// not itself in trusted (the left-most when all are). Each trusted hop vouches only for the
// hop before it, so the walk stops at an entry that is not an IP address and blames the last
// trusted hop. ok is false when the peer is not an IP address.
func clientAddr(r *http.Request, trusted []netip.Prefix) (addr netip.Addr, ok bool) {
	addr, ok = parseHop(r.RemoteAddr)
	if !ok || !inAny(addr, trusted) {
		return addr, ok
	}
	values := r.Header.Values("X-Forwarded-For")
	if len(values) == 0 {
		return addr, true
	}
	hops := strings.Split(strings.Join(values, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		addr = hop
		if !inAny(hop, trusted) {
			break
		}
	}
	return addr, true
}

// parseHop parses an address as a peer or a proxy writes it: a bare IP, or an IP with a port
// (1.2.3.4:5, [2001:db8::1]:5), IPv6 possibly in brackets. IPv4-mapped IPv6 becomes IPv4, and
// an IPv6 zone is dropped.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func inAny(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// sourceKey names the limiter's count for r's client: its IPv4 address, or the /64 network of
// its IPv6 address (one subscriber usually holds a whole /64, so counting single IPv6
// addresses would let one client fail without limit).
func sourceKey(r *http.Request, trusted []netip.Prefix) string {
	a, ok := clientAddr(r, trusted)
	switch {
	case !ok:
		return "peer:" + r.RemoteAddr
	case a.Is4():
		return "ip:" + a.String()
	default:
		return "ip:" + netip.PrefixFrom(a, 64).Masked().String()
	}
}
