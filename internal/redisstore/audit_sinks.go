package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
)

// The audit chain as audit sinks read it (audit.Reader) and their cursors beside it
// (audit.Cursors), under the chain's own keys:
//
//	<prefix>audit:sink:<name>:cursor  position of the first event the sink has not received
//	<prefix>audit:sink:<name>:marks   JSON audit.SinkCursor: the cursor with its marks, which
//	                                  count only while its pos equals the cursor (a broker that
//	                                  keeps no marks advances the cursor alone)
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

// saveSinkScript saves a cursor and its marks for the lease's holder, forward only or back only.
// KEYS: lease, cursor, marks. ARGV: holder, position, marks (JSON; "" for none), "forward" (save
// only past the saved position) or "back" (save only at or before it). Returns 1 when the
// holder held the lease.
var saveSinkScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
local pos = tonumber(ARGV[2])
if (ARGV[4] == 'forward' and pos > cur) or (ARGV[4] == 'back' and pos <= cur) then
	redis.call('SET', KEYS[2], ARGV[2])
	if ARGV[3] == '' then redis.call('DEL', KEYS[3]) else redis.call('SET', KEYS[3], ARGV[3]) end
end
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

// Cursor implements audit.Cursors: the saved marks count only when saved with the cursor's
// position; otherwise (or unreadable) the cursor has none.
func (s *auditStore) Cursor(ctx context.Context, sink string) (audit.SinkCursor, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	vals, err := s.c.rdb.MGet(cctx, s.sinkKey(sink, "cursor"), s.sinkKey(sink, "marks")).Result()
	if err != nil {
		return audit.SinkCursor{}, s.fail(ctx, err)
	}
	var out audit.SinkCursor
	if raw, ok := vals[0].(string); ok {
		if out.Pos, err = strconv.ParseInt(raw, 10, 64); err != nil {
			return audit.SinkCursor{}, fmt.Errorf("redisstore: audit sink %q: cursor %q is no position: %w", sink, raw, err)
		}
	}
	var marked audit.SinkCursor
	if raw, ok := vals[1].(string); ok && json.Unmarshal([]byte(raw), &marked) == nil && marked.Pos == out.Pos {
		out.Marks = marked.Marks
	}
	return out, nil
}

// Advance implements audit.Cursors.
func (s *auditStore) Advance(ctx context.Context, sink, holder string, to audit.SinkCursor) (bool, error) {
	return s.saveCursor(ctx, sink, holder, to, "forward")
}

// Rewind implements audit.Cursors.
func (s *auditStore) Rewind(ctx context.Context, sink, holder string, to audit.SinkCursor) (bool, error) {
	return s.saveCursor(ctx, sink, holder, to, "back")
}

// saveCursor runs saveSinkScript in direction ("forward" or "back").
func (s *auditStore) saveCursor(ctx context.Context, sink, holder string, to audit.SinkCursor, direction string) (bool, error) {
	marks := ""
	if len(to.Marks) > 0 {
		b, err := json.Marshal(to)
		if err != nil {
			return false, fmt.Errorf("redisstore: audit sink %q: marks: %w", sink, err)
		}
		marks = string(b)
	}
	keys := []string{s.sinkKey(sink, "lease"), s.sinkKey(sink, "cursor"), s.sinkKey(sink, "marks")}
	return s.runFlag(ctx, saveSinkScript, keys, holder, to.Pos, marks, direction)
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
