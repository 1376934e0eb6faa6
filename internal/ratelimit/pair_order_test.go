package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// orderRecorder is a PairLimiter that records the keys its FailedPair was given.
type orderRecorder struct {
	scriptedLimiter
	first, second string
}

func (p *orderRecorder) FailedPair(_ context.Context, first, second string) (time.Duration, error) {
	p.first, p.second = first, second
	return 0, nil
}

// TestFailedPairKeepsKeyOrder pins that a PairLimiter gets the keys in the caller's order:
// the client first, whose block stops the credential being counted, then the credential.
// Guards against: pair.go:FailedPair `pl.FailedPair(ctx, first, second)` -> arguments swapped
func TestFailedPairKeepsKeyOrder(t *testing.T) {
	p := &orderRecorder{}
	if _, err := ratelimit.FailedPair(context.Background(), p, "ip:a", "cred:b"); err != nil {
		t.Fatal(err)
	}
	if p.first != "ip:a" || p.second != "cred:b" {
		t.Errorf("FailedPair got (%q, %q), want (ip:a, cred:b)", p.first, p.second)
	}
}
