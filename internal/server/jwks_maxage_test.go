package server

import (
	"testing"
	"time"
)

// TestJWKSMaxAge: the max-age is a quarter of prepublish in whole seconds, never more than ten
// minutes, which bounds how long a relying party keeps trusting a replaced key, and zero under a
// second: a JWKS cached longer than a quarter of prepublish could lack a key already signing.
func TestJWKSMaxAge(t *testing.T) {
	for _, tc := range []struct {
		prepublish, want time.Duration
	}{
		{200 * time.Millisecond, 0},
		{time.Second, 0},
		{3999 * time.Millisecond, 0},
		{4 * time.Second, time.Second},
		{7 * time.Second, time.Second},
		{40 * time.Second, 10 * time.Second},
		{40 * time.Minute, 10 * time.Minute},
		{41 * time.Minute, 10 * time.Minute},
		{24 * time.Hour, 10 * time.Minute},
		{720 * time.Hour, 10 * time.Minute},
	} {
		if got := jwksMaxAge(tc.prepublish); got != tc.want {
			t.Errorf("jwksMaxAge(%v) = %v, want %v", tc.prepublish, got, tc.want)
		}
	}
}

// TestJWKSMaxAgeServedCapped: with prepublish 24h, discovery and the JWKS are served with
// max-age 600, the ten-minute cap, not a quarter of prepublish.
func TestJWKSMaxAgeServedCapped(t *testing.T) {
	ts := startServer(t, serverOptions{rotation: &rotationOptions{period: "720h", prepublish: "24h", retain: "24h", tokenTTL: "1h"}})
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks"} {
		resp := get(t, ts.URL+path, "")
		if got := cacheMaxAge(t, resp.header.Get("Cache-Control")); resp.status != 200 || got != 600 {
			t.Errorf("%s: status %d, Cache-Control %q, want 200 with max-age 600", path, resp.status, resp.header.Get("Cache-Control"))
		}
	}
}

// TestJWKSNotCachedUnderShortPrepublish: with prepublish 200ms, discovery and the JWKS are served
// with no-cache (a relying party allowed to cache them for a second would meet a key that
// started signing meanwhile).
func TestJWKSNotCachedUnderShortPrepublish(t *testing.T) {
	ts := startServer(t, serverOptions{rotation: &rotationOptions{period: "10s", prepublish: "200ms", retain: "1m", tokenTTL: "1m"}})
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks"} {
		resp := get(t, ts.URL+path, "")
		if cc := resp.header.Get("Cache-Control"); resp.status != 200 || cc != "no-cache" {
			t.Errorf("%s: status %d, Cache-Control %q, want 200 with no-cache", path, resp.status, cc)
		}
	}
}
