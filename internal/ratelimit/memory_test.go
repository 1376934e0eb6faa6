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
	l.Failed(ctx, "a")
	l.Failed(ctx, "a")
	c.Advance(61 * time.Second) // the window ended: the count starts over
	l.Failed(ctx, "a")
	l.Failed(ctx, "a")
	if wait, _ := l.Blocked(ctx, "a"); wait != 0 {
		t.Fatalf("blocked after 2+2 failures in separate windows: %v", wait)
	}
	l.Failed(ctx, "a")
	if wait, _ := l.Blocked(ctx, "a"); wait != 5*time.Minute {
		t.Fatalf("wait %v, want the full cooling-off 5m", wait)
	}
	c.Advance(5*time.Minute - time.Second)
	if wait, _ := l.Blocked(ctx, "a"); wait != time.Second {
		t.Fatalf("wait %v, want 1s", wait)
	}
	c.Advance(time.Second)
	if wait, _ := l.Blocked(ctx, "a"); wait != 0 {
		t.Fatalf("still blocked after the cooling-off: %v", wait)
	}
}
