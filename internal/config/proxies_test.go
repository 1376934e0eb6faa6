package config

import (
	"net/netip"
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
