package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// failedLua defines failed(counter, block): it records one failure of a key and returns the
// rest of the block it was under. ARGV: window (ms), threshold, cooling-off (ms, 0 for none).
// The counter's window starts at its first failure: it always expires, also if an earlier
// write left it without a lifetime. Reaching the threshold blocks the key for the cooling-off
// period and starts counting afresh. Returns the milliseconds the block had left before this
// failure, 0 when the key was not blocked.
const failedLua = `
local function failed(counter, block)
  local ttl = redis.call('PTTL', block)
  if ttl == -1 then redis.call('DEL', block) end
  if ttl < 0 then ttl = 0 end
  local n = redis.call('INCR', counter)
  if redis.call('PTTL', counter) < 0 then redis.call('PEXPIRE', counter, ARGV[1]) end
  if n >= tonumber(ARGV[2]) then
    if tonumber(ARGV[3]) > 0 then
      redis.call('SET', block, '1', 'PX', ARGV[3])
    end
    redis.call('DEL', counter)
  end
  return ttl
end
`

// failedScript records one failure of a key (failedLua). KEYS: the failure counter, the block
// key.
var failedScript = redis.NewScript(failedLua + `return failed(KEYS[1], KEYS[2])`)

// failedPairScript records one failure of a first key and, unless it was blocked, of a second
// (ratelimit.FailedPair), and returns the wait. KEYS: the first key's counter and block key,
// then the second's. Its keys span two hash slots on a Redis Cluster, so it runs on a single
// server only.
var failedPairScript = redis.NewScript(failedLua + `
local ttl = failed(KEYS[1], KEYS[2])
if ttl > 0 then return ttl end
return failed(KEYS[3], KEYS[4])`)

// limiter is the ratelimit.Limiter view of a Client.
type limiter struct {
	c      *Client
	policy ratelimit.Policy
}

var _ ratelimit.PairLimiter = (*limiter)(nil)

// Limiter returns a ratelimit.Limiter with policy p whose counts all replicas share: failures
// of a key count at <prefix>authfail:<key> for p.Window from the first one, and reaching
// p.AuthFailures sets <prefix>authblock:<key> for p.Cooloff; both always expire.
// p.AuthFailures <= 0 disables it (no call reaches Redis). Errors reaching Redis wrap
// ratelimit.ErrUnavailable.
func (c *Client) Limiter(p ratelimit.Policy) ratelimit.Limiter {
	return &limiter{c: c, policy: p}
}

// failKey and blockKey of a limiter key share one hash slot on a Redis Cluster, tagged by the
// key itself ("{<key>}"), so that the counts of different clients spread over the cluster.
func (l *limiter) failKey(key string) string { return l.c.key("authfail:", l.tag(key)) }

func (l *limiter) blockKey(key string) string { return l.c.key("authblock:", l.tag(key)) }

// tag is key as a hash tag on a Redis Cluster, and key itself otherwise.
func (l *limiter) tag(key string) string {
	if !l.c.cluster {
		return key
	}
	return "{" + key + "}"
}

// fail describes a failure of op, adding ratelimit.ErrUnavailable to an unavailable Redis.
func (l *limiter) fail(ctx context.Context, op string, err error) error {
	err = l.c.fail(ctx, op, err)
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ratelimit.ErrUnavailable, err)
	}
	return err
}

// Failed implements ratelimit.Limiter, in one atomic script.
func (l *limiter) Failed(ctx context.Context, key string) (time.Duration, error) {
	if l.policy.AuthFailures <= 0 {
		return 0, nil
	}
	wait, err := l.run(ctx, failedScript, l.failKey(key), l.blockKey(key))
	if err != nil {
		return 0, l.fail(ctx, "record failure of "+key, err)
	}
	return wait, nil
}

// FailedPair implements ratelimit.PairLimiter: on a single server in one atomic script, one
// round trip; on a Redis Cluster, whose keys of two limiter keys lie in different hash slots,
// as ratelimit.FailedPair does with Failed.
func (l *limiter) FailedPair(ctx context.Context, first, second string) (time.Duration, error) {
	if l.policy.AuthFailures <= 0 {
		return 0, nil
	}
	if l.c.cluster {
		return ratelimit.FailedPair(ctx, onlyLimiter{l}, first, second)
	}
	wait, err := l.run(ctx, failedPairScript, l.failKey(first), l.blockKey(first), l.failKey(second), l.blockKey(second))
	if err != nil {
		return 0, l.fail(ctx, "record failure of "+first+" and "+second, err)
	}
	return wait, nil
}

// onlyLimiter hides a limiter's FailedPair, for ratelimit.FailedPair's two-call path.
type onlyLimiter struct{ l *limiter }

func (o onlyLimiter) Failed(ctx context.Context, key string) (time.Duration, error) {
	return o.l.Failed(ctx, key)
}

// run runs script, a failedLua script, on keys with the limiter's policy, and returns the wait
// it answered.
func (l *limiter) run(ctx context.Context, script *redis.Script, keys ...string) (time.Duration, error) {
	// PEXPIRE needs a positive window; a shorter one than 1 ms counts every failure alone.
	window := max(l.policy.Window.Milliseconds(), 1)
	cooloff := max(l.policy.Cooloff.Milliseconds(), 0)
	cctx, cancel := l.c.bound(ctx)
	defer cancel()
	ms, err := script.Run(cctx, l.c.rdb, keys, window, l.policy.AuthFailures, cooloff).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(ms) * time.Millisecond, nil
}
