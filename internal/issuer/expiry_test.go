package issuer

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A run ending within the current second gets no token: exp counts in whole seconds, so its
// token would expire as it is issued (exp equal to iat), which every relying party refuses.
func TestMintNeverAlreadyExpired(t *testing.T) {
	iss, _ := newBenchIssuer(t, "ES256")
	now := time.Date(2030, 1, 1, 12, 0, 0, 100_000_000, time.UTC)
	iss.cfg.Now = func() time.Time { return now }
	run := benchRun()
	run.ExpiresAt = now.Add(500 * time.Millisecond)
	tok, err := iss.Mint(context.Background(), Request{Run: run})
	if !errors.Is(err, ErrRunExpired) {
		t.Fatalf("Mint = exp %d, iat %d, %v; want ErrRunExpired (run expires %s, now %s)", tok.Claims.Expiry, tok.Claims.IssuedAt, err, run.ExpiresAt, now)
	}
	run.ExpiresAt = now.Add(1500 * time.Millisecond)
	if tok, err = iss.Mint(context.Background(), Request{Run: run}); err != nil || tok.Claims.Expiry <= tok.Claims.IssuedAt {
		t.Fatalf("a run ending in the next second: exp %d, iat %d, %v; want a token", tok.Claims.Expiry, tok.Claims.IssuedAt, err)
	}
}
