package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/ratelimit"
	"github.com/brokerhq/broker/internal/ratelimit/ratelimittest"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

func TestLimiterContract(t *testing.T) {
	srv := redistest.Start(t)
	ratelimittest.TestLimiter(t, func(t *testing.T, p ratelimit.Policy) ratelimit.Limiter {
		return open(t, srv, uniquePrefix(), suiteTimeout).Limiter(p)
	})
}

// TestLimiterAcrossReplicas checks that failures seen by different replicas add up.
func TestLimiterAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	p := ratelimit.Policy{AuthFailures: 3, Window: time.Minute, Cooloff: time.Minute}
	a := open(t, srv, prefix, suiteTimeout).Limiter(p)
	b := open(t, srv, prefix, suiteTimeout).Limiter(p)
	for _, l := range []ratelimit.Limiter{a, b, a} {
		if err := l.Failed(ctx, "2001:db8::1"); err != nil {
			t.Fatalf("Failed: %v", err)
		}
	}
	for name, l := range map[string]ratelimit.Limiter{"a": a, "b": b} {
		wait, err := l.Blocked(ctx, "2001:db8::1")
		if err != nil || wait <= 0 || wait > p.Cooloff {
			t.Errorf("replica %s: Blocked = %v, %v; want (0, %v]", name, wait, err, p.Cooloff)
		}
	}
	rdb := srv.Client()
	if n, err := rdb.Exists(ctx, prefix+"authfail:2001:db8::1").Result(); err != nil || n != 0 {
		t.Errorf("failure counter after the block: exists=%d, %v; want reset", n, err)
	}
}
