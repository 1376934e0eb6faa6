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
// block, reaching it blocks for about the cooling-off period, keys are independent, failures
// while blocked count towards a fresh block, and the block ends. It runs on the real clock
// with sub-second periods, so it suits shared stores.
func TestLimiter(t *testing.T, newLimiter Factory) {
	ctx := context.Background()
	policy := ratelimit.Policy{AuthFailures: 3, Window: 10 * time.Second, Cooloff: 700 * time.Millisecond}
	fail := func(t *testing.T, l ratelimit.Limiter, key string) time.Duration {
		t.Helper()
		wait, err := l.Failed(ctx, key)
		if err != nil {
			t.Fatalf("Failed(%s): %v", key, err)
		}
		return wait
	}

	t.Run("threshold blocks", func(t *testing.T) {
		l := newLimiter(t, policy)
		for i := range 3 {
			if wait := fail(t, l, "ip:10.0.0.1"); wait != 0 {
				t.Fatalf("failure %d: wait %v, want 0 (not yet blocked)", i+1, wait)
			}
		}
		if wait := fail(t, l, "ip:10.0.0.2"); wait != 0 {
			t.Errorf("another key is blocked too: %v", wait)
		}
		// A failure during the block reports the rest of it, and counts.
		if wait := fail(t, l, "ip:10.0.0.1"); wait <= 0 || wait > policy.Cooloff {
			t.Fatalf("failure during the block: wait %v, want (0, %v]", wait, policy.Cooloff)
		}
		time.Sleep(policy.Cooloff + 200*time.Millisecond)
		for i := 2; i <= 3; i++ {
			if wait := fail(t, l, "ip:10.0.0.1"); wait != 0 {
				t.Errorf("failure %d since the block, after the cooling-off: wait %v, want 0", i, wait)
			}
		}
		if wait := fail(t, l, "ip:10.0.0.1"); wait <= 0 || wait > policy.Cooloff {
			t.Errorf("after three failures since the block: wait %v, want a fresh block (0, %v]", wait, policy.Cooloff)
		}
	})

	t.Run("failures while blocked extend the block", func(t *testing.T) {
		l := newLimiter(t, policy)
		for range 3 {
			fail(t, l, "cred:abc")
		}
		time.Sleep(400 * time.Millisecond) // about 300ms of the block left
		for range 3 {
			if wait := fail(t, l, "cred:abc"); wait <= 0 || wait > policy.Cooloff-300*time.Millisecond {
				t.Fatalf("failure during the block: wait %v, want (0, %v]", wait, policy.Cooloff-300*time.Millisecond)
			}
		}
		if wait := fail(t, l, "cred:abc"); wait < 500*time.Millisecond || wait > policy.Cooloff {
			t.Errorf("after three failures during the block: wait %v, want a fresh block of about %v", wait, policy.Cooloff)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		l := newLimiter(t, ratelimit.Policy{Window: time.Second, Cooloff: time.Second})
		for range 10 {
			if wait := fail(t, l, "ip:10.0.0.3"); wait != 0 {
				t.Fatalf("disabled limiter blocked: %v", wait)
			}
		}
	})
}
