// Package ratelimittest is the contract suite every ratelimit.Limiter must pass.
package ratelimittest

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// Factory returns a fresh, empty Limiter with the given policy.
type Factory func(t *testing.T, p ratelimit.Policy) ratelimit.Limiter

// TestLimiter checks the behaviour every Limiter shares: failures under the threshold do not
// block, reaching it blocks for about the cooling-off period, addresses are independent, and
// the block ends. It runs on the real clock with sub-second periods, so it suits shared stores.
func TestLimiter(t *testing.T, newLimiter Factory) {
	ctx := context.Background()
	policy := ratelimit.Policy{AuthFailures: 3, Window: 10 * time.Second, Cooloff: 700 * time.Millisecond}

	t.Run("threshold blocks", func(t *testing.T) {
		l := newLimiter(t, policy)
		for i := 0; i < 2; i++ {
			if err := l.Failed(ctx, "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if wait, err := l.Blocked(ctx, "10.0.0.1"); err != nil || wait != 0 {
				t.Fatalf("after %d failures: blocked %v, %v", i+1, wait, err)
			}
		}
		if err := l.Failed(ctx, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		wait, err := l.Blocked(ctx, "10.0.0.1")
		if err != nil || wait <= 0 || wait > policy.Cooloff {
			t.Fatalf("after 3 failures: blocked %v, %v; want (0, %v]", wait, err, policy.Cooloff)
		}
		if wait, _ := l.Blocked(ctx, "10.0.0.2"); wait != 0 {
			t.Errorf("another address is blocked too: %v", wait)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			wait, err := l.Blocked(ctx, "10.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if wait == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still blocked long after the cooling-off period: %v", wait)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		l := newLimiter(t, ratelimit.Policy{Window: time.Second, Cooloff: time.Second})
		for i := 0; i < 10; i++ {
			if err := l.Failed(ctx, "10.0.0.3"); err != nil {
				t.Fatal(err)
			}
		}
		if wait, err := l.Blocked(ctx, "10.0.0.3"); err != nil || wait != 0 {
			t.Errorf("disabled limiter blocked: %v, %v", wait, err)
		}
	})
}
