package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/ratelimit/ratelimittest"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

func TestMemoryContract(t *testing.T) {
	ratelimittest.TestLimiter(t, func(t *testing.T, p ratelimit.Policy) ratelimit.Limiter {
		return ratelimit.NewMemory(p, nil)
	})
}

func TestMemoryWindowResets(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	l := ratelimit.NewMemory(ratelimit.Policy{AuthFailures: 3, Window: time.Minute, Cooloff: 5 * time.Minute}, c.Now)
	fail := func() time.Duration {
		t.Helper()
		wait, err := l.Failed(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	fail()
	fail()
	c.Advance(61 * time.Second) // the window ended: the count starts over
	fail()
	fail()
	if wait := fail(); wait != 0 {
		t.Fatalf("the failure that reaches the threshold: wait %v, want 0", wait)
	}
	if wait := fail(); wait != 5*time.Minute {
		t.Fatalf("wait %v, want the full cooling-off 5m", wait)
	}
	c.Advance(5*time.Minute - time.Second)
	if wait := fail(); wait != time.Second {
		t.Fatalf("wait %v, want the block's last 1s", wait)
	}
	c.Advance(time.Second)
	for range 2 { // with the failure during the block, the second reaches the threshold again
		if wait := fail(); wait != 0 {
			t.Fatalf("still blocked after the cooling-off: %v", wait)
		}
	}
	if wait := fail(); wait != 5*time.Minute {
		t.Fatalf("after the failure during the block and two after it: wait %v, want a fresh 5m block", wait)
	}
}
