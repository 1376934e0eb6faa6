package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/ratelimit"
)

// failedScript records one failure of an address.
// KEYS: the failure counter, the block key. ARGV: window (ms), threshold, cooling-off (ms, 0
// for none). The counter's window starts at its first failure: it always expires, also if an
// earlier write left it without a lifetime. Reaching the threshold blocks the address for the
// cooling-off period and starts counting afresh. Returns 1 when it blocked.
var failedScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n >= tonumber(ARGV[2]) then
  if tonumber(ARGV[3]) > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  end
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// limiter is the ratelimit.Limiter view of a Client.
type limiter struct {
	c      *Client
	policy ratelimit.Policy
}

var _ ratelimit.Limiter = (*limiter)(nil)

// Limiter returns a ratelimit.Limiter with policy p whose counts all replicas share: failures
// of an address count at <prefix>authfail:<addr> for p.Window from the first one, and reaching
// p.AuthFailures sets <prefix>authblock:<addr> for p.Cooloff. p.AuthFailures <= 0 disables it
// (no call reaches Redis). Errors reaching Redis wrap ratelimit.ErrUnavailable.
func (c *Client) Limiter(p ratelimit.Policy) ratelimit.Limiter {
	return &limiter{c: c, policy: p}
}

func (l *limiter) failKey(addr string) string { return l.c.key("authfail:", addr) }

func (l *limiter) blockKey(addr string) string { return l.c.key("authblock:", addr) }

// fail describes a failure of op, adding ratelimit.ErrUnavailable to an unavailable Redis.
func (l *limiter) fail(ctx context.Context, op string, err error) error {
	err = l.c.fail(ctx, op, err)
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ratelimit.ErrUnavailable, err)
	}
	return err
}

// Blocked implements ratelimit.Limiter: the remaining lifetime of the address's block key.
func (l *limiter) Blocked(ctx context.Context, addr string) (time.Duration, error) {
	if l.policy.AuthFailures <= 0 {
		return 0, nil
	}
	cctx, cancel := l.c.bound(ctx)
	defer cancel()
	ttl, err := l.c.rdb.PTTL(cctx, l.blockKey(addr)).Result()
	if err != nil {
		return 0, l.fail(ctx, "read block of "+addr, err)
	}
	if ttl > 0 { // -2: no block; -1 cannot happen (blocks always expire)
		return ttl, nil
	}
	return 0, nil
}

// Failed implements ratelimit.Limiter, in one atomic script.
func (l *limiter) Failed(ctx context.Context, addr string) error {
	if l.policy.AuthFailures <= 0 {
		return nil
	}
	// PEXPIRE needs a positive window; a shorter one than 1 ms counts every failure alone.
	window := max(l.policy.Window.Milliseconds(), 1)
	cooloff := max(l.policy.Cooloff.Milliseconds(), 0)
	cctx, cancel := l.c.bound(ctx)
	defer cancel()
	err := failedScript.Run(cctx, l.c.rdb, []string{l.failKey(addr), l.blockKey(addr)},
		window, l.policy.AuthFailures, cooloff).Err()
	if err != nil {
		return l.fail(ctx, "record failure of "+addr, err)
	}
	return nil
}
