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
	var wait time.Duration
	for _, l := range []ratelimit.Limiter{a, b, a} {
		var err error
		if wait, err = l.Failed(ctx, "ip:2001:db8::/64"); err != nil {
			t.Fatalf("Failed: %v", err)
		}
	}
	if wait != 0 {
		t.Errorf("third failure, on replica a: wait %v; want 0 (the block starts with it)", wait)
	}
	if wait, err := b.Failed(ctx, "ip:2001:db8::/64"); err != nil || wait <= 0 || wait > p.Cooloff {
		t.Errorf("replica b: Failed = %v, %v; want (0, %v]", wait, err, p.Cooloff)
	}
}

// TestLimiterKeysExpire checks that no key the limiter writes outlives its window or block,
// also when a counter was left without a lifetime.
func TestLimiterKeysExpire(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	p := ratelimit.Policy{AuthFailures: 3, Window: time.Minute, Cooloff: 2 * time.Minute}
	l := open(t, srv, prefix, suiteTimeout).Limiter(p)
	rdb := srv.Client()
	ttl := func(key string) time.Duration {
		t.Helper()
		d, err := rdb.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	if _, err := l.Failed(ctx, "ip:192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if d := ttl(prefix + "authfail:ip:192.0.2.1"); d <= 0 || d > p.Window {
		t.Errorf("counter lifetime %v, want (0, %v]", d, p.Window)
	}

	// A counter without a lifetime (left by a crash or an older release) gets one.
	if err := rdb.Set(ctx, prefix+"authfail:ip:192.0.2.2", 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Failed(ctx, "ip:192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	if d := ttl(prefix + "authfail:ip:192.0.2.2"); d <= 0 || d > p.Window {
		t.Errorf("counter found without a lifetime: lifetime %v after a failure, want (0, %v]", d, p.Window)
	}

	for range 3 {
		if _, err := l.Failed(ctx, "ip:192.0.2.3"); err != nil {
			t.Fatal(err)
		}
	}
	if d := ttl(prefix + "authblock:ip:192.0.2.3"); d <= 0 || d > p.Cooloff {
		t.Errorf("block lifetime %v, want (0, %v]", d, p.Cooloff)
	}
	if n, err := rdb.Exists(ctx, prefix+"authfail:ip:192.0.2.3").Result(); err != nil || n != 0 {
		t.Errorf("counter after the block: exists=%d, %v; want reset", n, err)
	}
}

// TestLimiterBlockWithoutLifetime pins that a block key left without a lifetime (by a
// crash or by hand) neither blocks its key nor stays behind: the next failure removes it, so
// that no limiter key outlives its window or block.
// Guards against: DEL of a block without lifetime dropped (limiter.go:failedLua)
func TestLimiterBlockWithoutLifetime(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	p := ratelimit.Policy{AuthFailures: 3, Window: time.Minute, Cooloff: time.Minute}
	l := open(t, srv, prefix, suiteTimeout).Limiter(p)
	rdb := srv.Client()
	block := prefix + "authblock:ip:192.0.2.9"
	if err := rdb.Set(ctx, block, "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if wait, err := l.Failed(ctx, "ip:192.0.2.9"); err != nil || wait != 0 {
		t.Errorf("Failed under a block without lifetime = %v, %v; want 0, nil", wait, err)
	}
	if n, err := rdb.Exists(ctx, block).Result(); err != nil || n != 0 {
		t.Errorf("block without lifetime after a failure: exists=%d, %v; want removed", n, err)
	}
}

// TestLimiterWithoutCooloff pins that a policy whose cooling-off rounds to no whole
// millisecond still counts failures without error: reaching the threshold blocks nothing and
// starts counting afresh, as the in-memory limiter does.
// Guards against: block set also for a zero cooling-off, "> 0" made ">= 0" (limiter.go:failedLua)
func TestLimiterWithoutCooloff(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	for _, cooloff := range []time.Duration{0, 500 * time.Microsecond} {
		p := ratelimit.Policy{AuthFailures: 2, Window: time.Minute, Cooloff: cooloff}
		l := open(t, srv, prefix, suiteTimeout).Limiter(p)
		key := "ip:192.0.2." + cooloff.String()
		for i := range 3 {
			if wait, err := l.Failed(ctx, key); err != nil || wait != 0 {
				t.Errorf("cooloff %v: failure %d = %v, %v; want 0, nil", cooloff, i+1, wait, err)
			}
		}
		if n, err := srv.Client().Exists(ctx, prefix+"authblock:"+key).Result(); err != nil || n != 0 {
			t.Errorf("cooloff %v: block key exists=%d, %v; want none", cooloff, n, err)
		}
	}
}

// TestDisabledLimiterPairCountsNothing pins that a limiter whose policy allows no
// failures (disabled) never blocks through the pair path either and writes no key to Redis.
// Guards against: AuthFailures <= 0 early return dropped from FailedPair (limiter.go:FailedPair)
func TestDisabledLimiterPairCountsNothing(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	l := open(t, srv, prefix, suiteTimeout).Limiter(ratelimit.Policy{Window: time.Minute, Cooloff: time.Minute})
	pair, ok := l.(ratelimit.PairLimiter)
	if !ok {
		t.Fatal("the Redis limiter is not a PairLimiter")
	}
	for i := range 3 {
		if wait, err := pair.FailedPair(ctx, "ip:192.0.2.7", "cred:probe"); err != nil || wait != 0 {
			t.Errorf("FailedPair %d on a disabled limiter = %v, %v; want 0, nil", i+1, wait, err)
		}
	}
	if keys, err := srv.Client().Keys(ctx, prefix+"*").Result(); err != nil || len(keys) != 0 {
		t.Errorf("keys written by a disabled limiter: %v, %v; want none", keys, err)
	}
}
