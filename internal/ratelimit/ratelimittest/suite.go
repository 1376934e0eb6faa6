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
// while blocked count towards a fresh block, the block ends, and a count ends with its window.
// It runs on the real clock with periods of at most two seconds, so it suits shared stores.
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

	t.Run("window ends", func(t *testing.T) { testWindowEnds(t, newLimiter) })
	t.Run("a count after a block starts at its first failure", func(t *testing.T) {
		testCountAfterBlock(t, newLimiter)
	})

	t.Run("disabled", func(t *testing.T) {
		l := newLimiter(t, ratelimit.Policy{Window: time.Second, Cooloff: time.Second})
		for range 10 {
			if wait := fail(t, l, "ip:10.0.0.3"); wait != 0 {
				t.Fatalf("disabled limiter blocked: %v", wait)
			}
		}
	})

	t.Run("pair", func(t *testing.T) { testPair(t, newLimiter, policy) })
}

// testPair checks ratelimit.FailedPair on l: both keys count until the first is blocked, the
// second's block is reported when the first is not blocked, and the second is not counted
// while the first is blocked.
func testPair(t *testing.T, newLimiter Factory, policy ratelimit.Policy) {
	ctx := context.Background()
	l := newLimiter(t, policy)
	pair := func(first, second string) time.Duration {
		t.Helper()
		wait, err := ratelimit.FailedPair(ctx, l, first, second)
		if err != nil {
			t.Fatalf("FailedPair(%s, %s): %v", first, second, err)
		}
		return wait
	}
	for i := range 3 { // the third failure blocks both keys
		if wait := pair("ip:10.0.1.1", "cred:one"); wait != 0 {
			t.Fatalf("pair failure %d: wait %v, want 0", i+1, wait)
		}
	}
	if wait := pair("ip:10.0.1.2", "cred:one"); wait <= 0 || wait > policy.Cooloff {
		t.Errorf("an unblocked client with a blocked credential: wait %v, want the credential's (0, %v]", wait, policy.Cooloff)
	}
	for range 5 {
		if wait := pair("ip:10.0.1.1", "cred:two"); wait <= 0 || wait > policy.Cooloff {
			t.Fatalf("a blocked client: wait %v, want its block (0, %v]", wait, policy.Cooloff)
		}
	}
	// cred:two was not counted while its client was blocked: three failures of its own to block it.
	for i := range 3 {
		wait, err := l.Failed(ctx, "cred:two")
		if err != nil || wait != 0 {
			t.Fatalf("failure %d of cred:two on its own: wait %v, %v; want 0 (not counted before)", i+1, wait, err)
		}
	}
	if wait, _ := l.Failed(ctx, "cred:two"); wait <= 0 {
		t.Errorf("cred:two after three failures of its own: wait %v, want blocked", wait)
	}
}

// testWindowEnds is TestLimiter's case "window ends": failures count within Window only.
// Failures spread over more than the window never block, and once a window is over,
// AuthFailures fresh failures are needed to block.
func testWindowEnds(t *testing.T, newLimiter Factory) {
	ctx := context.Background()
	policy := ratelimit.Policy{AuthFailures: 3, Window: time.Second, Cooloff: 2 * time.Second}
	l := newLimiter(t, policy)
	fail := func(what string) time.Duration {
		t.Helper()
		wait, err := l.Failed(ctx, "ip:10.0.2.1")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return wait
	}
	for i := range 2 {
		if wait := fail("first window"); wait != 0 {
			t.Fatalf("failure %d of the first window: wait %v, want 0", i+1, wait)
		}
	}
	time.Sleep(policy.Window + 300*time.Millisecond) // the first window is over
	// A fresh count: the third failure of this window reaches the threshold.
	for i := range 3 {
		if wait := fail("second window"); wait != 0 {
			t.Fatalf("failure %d after the window ended: wait %v, want 0 (the count starts over)", i+1, wait)
		}
	}
	if wait := fail("blocked"); wait <= 0 || wait > policy.Cooloff {
		t.Errorf("after three failures within one window: wait %v, want a block (0, %v]", wait, policy.Cooloff)
	}
}

// testCountAfterBlock is TestLimiter's case "a count after a block starts at its first
// failure": failures made during a block count in a window that starts at the first of them,
// as every count does, not at the failure that set the block; so AuthFailures of them within
// Window give a fresh block even when they straddle Window after the block began.
func testCountAfterBlock(t *testing.T, newLimiter Factory) {
	ctx := context.Background()
	policy := ratelimit.Policy{AuthFailures: 3, Window: time.Second, Cooloff: 2 * time.Second}
	l := newLimiter(t, policy)
	fail := func() time.Duration {
		t.Helper()
		wait, err := l.Failed(ctx, "ip:10.0.3.1")
		if err != nil {
			t.Fatalf("Failed: %v", err)
		}
		return wait
	}
	for range 3 { // blocked until about 2s from now
		fail()
	}
	// Three failures within 300ms during the block, the last past one window after it began.
	for _, pause := range []time.Duration{800 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond} {
		time.Sleep(pause)
		fail()
	}
	time.Sleep(100 * time.Millisecond)
	// A fresh block from the third of them leaves about 1.9s; the first block's rest is 0.8s.
	if wait := fail(); wait < 1400*time.Millisecond || wait > policy.Cooloff {
		t.Errorf("after three failures within 300ms during the block: wait %v, want a fresh block of about %v",
			wait, policy.Cooloff-100*time.Millisecond)
	}
}
