package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
)

// appendEventScript appends one event if the chain's tail is still the expected one.
// KEYS: tail hash, event list, then one index list per space. ARGV: expected tail, event JSON,
// the event's own hash. Returns {1} when appended, {0, current tail} otherwise.
var appendEventScript = redis.NewScript(`
local tail = redis.call('GET', KEYS[1]) or ''
if tail ~= ARGV[1] then return {0, tail} end
local n = redis.call('RPUSH', KEYS[2], ARGV[2])
for i = 3, #KEYS do redis.call('RPUSH', KEYS[i], n - 1) end
redis.call('SET', KEYS[1], ARGV[3])
return {1}
`)

// listEventsScript returns the events of a space's index from position ARGV[1] to ARGV[2], and
// the index's length. KEYS: the space's index, the event list.
var listEventsScript = redis.NewScript(`
local idx = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
local out = {redis.call('LLEN', KEYS[1])}
for _, i in ipairs(idx) do table.insert(out, redis.call('LINDEX', KEYS[2], i)) end
return out
`)

// maxAppendTries bounds compare-and-swap retries of one append under contention.
const maxAppendTries = 100

// Audit returns the audit chain kept in this Redis: <prefix>audit:events (every event, in chain
// order), <prefix>audit:tail (the last event's hash) and <prefix>audit:space:<id> (positions of
// the events of a space's subtree). Nothing expires: the trail is kept until an operator
// archives it.
func (c *Client) Audit() audit.Store { return &auditStore{c: c} }

type auditStore struct {
	c *Client
	// mu serializes this replica's appends, so they never race each other for the tail and
	// only another replica's append can make a compare-and-swap retry. tail is the last chain
	// hash this replica saw, so most appends succeed at the first try.
	mu   sync.Mutex
	tail string
}

func (s *auditStore) Append(ctx context.Context, e audit.Event, spaces []string) (audit.Event, error) {
	keys := []string{s.c.key("audit:", "tail"), s.c.key("audit:", "events")}
	for _, sp := range spaces {
		keys = append(keys, s.c.key("audit:space:", sp))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	expected := s.tail
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	for try := 0; try < maxAppendTries; try++ {
		e.Prev = expected
		h, err := audit.Hash(e)
		if err != nil {
			return audit.Event{}, err
		}
		raw, err := json.Marshal(e)
		if err != nil {
			return audit.Event{}, err
		}
		res, err := appendEventScript.Run(cctx, s.c.rdb, keys, expected, raw, h).Slice()
		if err != nil {
			return audit.Event{}, s.fail(ctx, err)
		}
		if ok, _ := res[0].(int64); ok == 1 {
			s.tail = h
			return e, nil
		}
		if len(res) < 2 {
			return audit.Event{}, errors.New("redisstore: audit append: unexpected script reply")
		}
		expected, _ = res[1].(string) // another writer appended first: chain onto its event
	}
	return audit.Event{}, fmt.Errorf("%w: audit append: %d concurrent retries", audit.ErrUnavailable, maxAppendTries)
}

func (s *auditStore) List(ctx context.Context, space, cursor string, limit int) ([]audit.Event, string, error) {
	from, err := audit.ParseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		return []audit.Event{}, cursor, nil
	}
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	res, err := listEventsScript.Run(cctx, s.c.rdb,
		[]string{s.c.key("audit:space:", space), s.c.key("audit:", "events")}, from, from+int64(limit)-1).Slice()
	if err != nil {
		return nil, "", s.fail(ctx, err)
	}
	total, _ := res[0].(int64)
	out := make([]audit.Event, 0, len(res)-1)
	for _, v := range res[1:] {
		str, _ := v.(string)
		var e audit.Event
		if err := json.Unmarshal([]byte(str), &e); err != nil {
			return nil, "", fmt.Errorf("redisstore: stored audit event is not JSON: %w", err)
		}
		out = append(out, e)
	}
	next := ""
	if end := from + int64(len(out)); end < total {
		next = strconv.FormatInt(end, 10)
	}
	return out, next, nil
}

func (s *auditStore) fail(ctx context.Context, err error) error {
	err = s.c.fail(ctx, "audit", err)
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", audit.ErrUnavailable, err)
	}
	return err
}
