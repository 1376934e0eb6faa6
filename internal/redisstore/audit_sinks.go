package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
)

// The audit chain as audit sinks read it (audit.Reader) and their cursors beside it
// (audit.Cursors), under the chain's own keys:
//
//	<prefix>audit:sink:<name>:cursor  position of the first event the sink has not received
//	<prefix>audit:sink:<name>:lease   the replica delivering to the sink; expires unless renewed

// claimSinkScript takes or renews a lease. KEYS: lease. ARGV: holder, ttl in ms. Returns 1 when
// the holder holds it.
var claimSinkScript = redis.NewScript(`
local h = redis.call('GET', KEYS[1])
if h and h ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// releaseSinkScript deletes a lease its holder gives up. KEYS: lease. ARGV: holder.
var releaseSinkScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// advanceSinkScript moves a cursor forward for the lease's holder. KEYS: lease, cursor. ARGV:
// holder, position. Returns 1 when the holder held the lease.
var advanceSinkScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('SET', KEYS[2], ARGV[2]) end
return 1
`)

// sinkKey is a key of a sink's cursor or lease, beside the chain's keys (one hash slot on a
// Redis Cluster).
func (s *auditStore) sinkKey(sink, what string) string {
	return s.c.key(s.c.group("audit")+"audit:", "sink:"+sink+":"+what)
}

// Range implements audit.Reader: Redis keeps every event, so the first is always at from.
func (s *auditStore) Range(ctx context.Context, from int64, limit int) ([]audit.Event, int64, error) {
	if limit <= 0 || from < 0 {
		return []audit.Event{}, max(from, 0), nil
	}
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	raw, err := s.c.rdb.LRange(cctx, s.eventsKey(), from, from+int64(limit)-1).Result()
	if err != nil {
		return nil, from, s.fail(ctx, err)
	}
	out := make([]audit.Event, 0, len(raw))
	for _, r := range raw {
		var e audit.Event
		if err := json.Unmarshal([]byte(r), &e); err != nil {
			return nil, from, fmt.Errorf("redisstore: stored audit event is not JSON: %w", err)
		}
		out = append(out, e)
	}
	return out, from, nil
}

// Claim implements audit.Cursors.
func (s *auditStore) Claim(ctx context.Context, sink, holder string, ttl time.Duration) (bool, error) {
	return s.runFlag(ctx, claimSinkScript, []string{s.sinkKey(sink, "lease")}, holder, max(ttl.Milliseconds(), 1))
}

// Release implements audit.Cursors.
func (s *auditStore) Release(ctx context.Context, sink, holder string) error {
	_, err := s.runFlag(ctx, releaseSinkScript, []string{s.sinkKey(sink, "lease")}, holder)
	return err
}

// Cursor implements audit.Cursors.
func (s *auditStore) Cursor(ctx context.Context, sink string) (int64, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	n, err := s.c.rdb.Get(cctx, s.sinkKey(sink, "cursor")).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail(ctx, err)
	}
	return n, nil
}

// Advance implements audit.Cursors.
func (s *auditStore) Advance(ctx context.Context, sink, holder string, pos int64) (bool, error) {
	return s.runFlag(ctx, advanceSinkScript, []string{s.sinkKey(sink, "lease"), s.sinkKey(sink, "cursor")}, holder, pos)
}

// runFlag runs a script that answers 1 or 0.
func (s *auditStore) runFlag(ctx context.Context, script *redis.Script, keys []string, args ...any) (bool, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	n, err := script.Run(cctx, s.c.rdb, keys, args...).Int64()
	if err != nil {
		return false, s.fail(ctx, err)
	}
	return n == 1, nil
}
