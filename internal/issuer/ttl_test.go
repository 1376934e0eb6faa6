package issuer

import (
	"context"
	"testing"
	"time"
)

// TestExpiryInWholeSeconds: exp counts seconds, so a lifetime with a fraction of a second (which
// the configuration refuses, but a caller of the package may give) is cut to whole seconds, and
// the token's ExpiresAt is its exp claim, after iat, never a fraction later.
func TestExpiryInWholeSeconds(t *testing.T) {
	iss := newTwoChainIssuer(t, nil)
	base := time.Date(2026, 1, 1, 12, 0, 0, 700_000_000, time.UTC)
	for _, tc := range []struct {
		ttl  time.Duration
		want int64 // exp - iat
	}{{1500 * time.Millisecond, 1}, {2999 * time.Millisecond, 2}, {time.Hour, 3600}} {
		iss.cfg.TTL = tc.ttl
		iss.cfg.Now = func() time.Time { return base }
		run := benchRun()
		run.ExpiresAt = base.Add(24 * time.Hour)
		tok, err := iss.Mint(context.Background(), Request{Run: run})
		if err != nil {
			t.Fatalf("ttl %s: %v", tc.ttl, err)
		}
		if got := tok.Claims.Expiry - tok.Claims.IssuedAt; got != tc.want || !tok.ExpiresAt.Equal(time.Unix(tok.Claims.Expiry, 0)) {
			t.Errorf("ttl %s: exp-iat %d, ExpiresAt %s for exp %d; want %d and ExpiresAt at exp", tc.ttl, got, tok.ExpiresAt, tok.Claims.Expiry, tc.want)
		}
	}
}
