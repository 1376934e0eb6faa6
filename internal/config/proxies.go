package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ParseTrustedProxy parses one entry of http.trusted_proxies: a CIDR such as 10.0.0.0/8 or
// 2001:db8::/32, or a bare IP standing for that one address. A CIDR must not have host bits
// set, IPv4 is written in dotted form (not ::ffff:a.b.c.d), and a network of every address
// (/0) is refused: it would believe X-Forwarded-For from any client.
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
	return out, nil
}

func (v *validator) checkTrustedProxies() {
	for i, s := range v.c.HTTP.TrustedProxies {
		if _, err := ParseTrustedProxy(s); err != nil {
			v.add(fmt.Sprintf("http.trusted_proxies[%d]", i), s, "%q %v", s, err)
		}
	}
}
