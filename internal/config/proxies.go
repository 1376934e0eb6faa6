package config

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ParseTrustedProxy parses one entry of http.trusted_proxies: a CIDR such as 10.0.0.0/8 or
// 2001:db8::/32, or a bare IP standing for that one address. A CIDR must not have host bits
// set, IPv4 is written in dotted form (not ::ffff:a.b.c.d), and a network of every address
// (/0) is refused: it would believe X-Forwarded-For from any client. So are entries that
// together hold every address of a family (Validate and TrustedProxyPrefixes check that).
func ParseTrustedProxy(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			return netip.Prefix{}, errors.New("is not an IP address or CIDR")
		case a.Zone() != "":
			return netip.Prefix{}, errors.New("must not carry an IPv6 zone")
		case a.Is4In6():
			return netip.Prefix{}, fmt.Errorf("must be written in dotted form: %s", a.Unmap())
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return netip.Prefix{}, errors.New("is not an IP address or CIDR")
	case p.Addr().Is4In6():
		return netip.Prefix{}, errors.New("must be written in dotted form, such as 10.0.0.0/8")
	case p.Masked() != p:
		return netip.Prefix{}, fmt.Errorf("has host bits set (did you mean %s?)", p.Masked())
	case p.Bits() == 0:
		return netip.Prefix{}, errors.New("would trust X-Forwarded-For from every client")
	}
	return p, nil
}

// TrustedProxyPrefixes returns http.trusted_proxies parsed by ParseTrustedProxy; the error
// names the first bad entry (Validate reports them all).
func (h HTTP) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(h.TrustedProxies))
	for i, s := range h.TrustedProxies {
		p, err := ParseTrustedProxy(s)
		if err != nil {
			return nil, fmt.Errorf("http.trusted_proxies[%d] %q: %w", i, s, err)
		}
		out = append(out, p)
	}
	if family := coveredFamily(out); family != "" {
		return nil, fmt.Errorf("http.trusted_proxies: %s", everyClient(family))
	}
	return out, nil
}

func (v *validator) checkTrustedProxies() {
	var parsed []netip.Prefix
	for i, s := range v.c.HTTP.TrustedProxies {
		p, err := ParseTrustedProxy(s)
		if err != nil {
			v.add(fmt.Sprintf("http.trusted_proxies[%d]", i), s, "%q %v", s, err)
			continue
		}
		parsed = append(parsed, p)
	}
	if family := coveredFamily(parsed); family != "" {
		v.add("http.trusted_proxies", "", "%s", everyClient(family))
	}
}

// everyClient says why ranges holding every address of family are refused.
func everyClient(family string) string {
	return "the ranges together trust X-Forwarded-For from every " + family +
		" client, as /0 would; list only the proxies' own networks"
}

// coveredFamily returns "IPv4" or "IPv6" when ps together hold every address of that family, so
// that they trust every client of it as /0 would, and "" when they hold no family whole.
func coveredFamily(ps []netip.Prefix) string {
	for _, family := range []struct {
		name string
		zero netip.Addr
	}{{"IPv4", netip.IPv4Unspecified()}, {"IPv6", netip.IPv6Unspecified()}} {
		var of []netip.Prefix
		for _, p := range ps {
			if p.Addr().BitLen() == family.zero.BitLen() {
				of = append(of, p)
			}
		}
		slices.SortFunc(of, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
		next := family.zero // the first address no range before holds
		for _, p := range of {
			if next.Less(p.Addr()) {
				break // next is held by none
			}
			if last := lastAddr(p); !last.Less(next) {
				if next = last.Next(); !next.IsValid() {
					return family.name // the ranges reach the family's last address
				}
			}
		}
	}
	return ""
}

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	last, _ := netip.AddrFromSlice(b)
	return last
}
