package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestTrustedProxyPrefixes(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte(iss+"http:\n  trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\", \"2001:db8::1\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.HTTP.TrustedProxyPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("2001:db8::1/128"),
	}
	if !equal(got, want) {
		t.Errorf("prefixes %v, want %v", got, want)
	}
	if _, err := (HTTP{TrustedProxies: []string{"10.0.0.0/8", "x"}}).TrustedProxyPrefixes(); err == nil {
		t.Error("a bad entry parsed")
	}
	empty, err := (HTTP{}).TrustedProxyPrefixes()
	if err != nil || len(empty) != 0 {
		t.Errorf("no proxies: %v, %v", empty, err)
	}
}

// TestTrustedProxiesTogetherTrustingEveryClient: ranges that are each narrower than /0 but
// together hold every address of a family would believe X-Forwarded-For from every client of
// it, as /0 would, and are refused as /0 is; ranges that leave out one address are not.
// Guards against: trusted_proxies checked one entry at a time (0.0.0.0/1 and 128.0.0.0/1
// accepted)
func TestTrustedProxiesTogetherTrustingEveryClient(t *testing.T) {
	tests := []struct {
		ranges []string
		family string // the family they cover; "" when none
	}{
		{[]string{"0.0.0.0/1", "128.0.0.0/1"}, "IPv4"},
		{[]string{"128.0.0.0/1", "10.0.0.0/8", "0.0.0.0/1"}, "IPv4"},
		{[]string{"0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"}, "IPv4"},
		{[]string{"0.0.0.0/1", "64.0.0.0/2", "128.0.0.0/1"}, "IPv4"},
		{[]string{"::/1", "8000::/1"}, "IPv6"},
		{append(halvingsUpTo("255.255.255.254"), "255.255.255.255"), "IPv4"},
		{halvingsUpTo("255.255.255.254"), ""},
		{[]string{"0.0.0.0/1", "128.0.0.0/2"}, ""},
		{[]string{"0.0.0.1", "0.0.0.0/1"}, ""},
		{[]string{"128.0.0.0/1", "::/1"}, ""},
		{[]string{"0.0.0.0/1", "8000::/1"}, ""},
		{[]string{"10.0.0.0/8", "10.0.0.0/8"}, ""},
	}
	for _, tt := range tests {
		list := `["` + strings.Join(tt.ranges, `", "`) + `"]`
		_, err := Parse("t.yaml", []byte(iss+"http:\n  trusted_proxies: "+list+"\n"))
		_, prefixErr := (HTTP{TrustedProxies: tt.ranges}).TrustedProxyPrefixes()
		if tt.family == "" {
			if err != nil || prefixErr != nil {
				t.Errorf("%s refused: %v; %v", list, err, prefixErr)
			}
			continue
		}
		want := "together trust X-Forwarded-For from every " + tt.family + " client"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "http.trusted_proxies") {
			t.Errorf("%s: Parse error %v, want one naming http.trusted_proxies that says %q", list, err, want)
		}
		if prefixErr == nil || !strings.Contains(prefixErr.Error(), want) {
			t.Errorf("%s: TrustedProxyPrefixes error %v, want %q", list, prefixErr, want)
		}
	}
}

// halvingsUpTo returns 0.0.0.0/1, 128.0.0.0/2, 192.0.0.0/3 and so on, each range the first half
// of what the ones before it leave, down to last: every IPv4 address below last and last.
func halvingsUpTo(last string) []string {
	var out []string
	for bits := 1; bits <= 32; bits++ {
		start := netip.AddrFrom4([4]byte{})
		if bits > 1 {
			p := netip.MustParsePrefix(out[len(out)-1])
			start = lastOf(p).Next()
		}
		out = append(out, netip.PrefixFrom(start, bits).String())
		if start.String() == last {
			break
		}
	}
	return out
}

// lastOf returns the last address of p.
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom4(b)
}
