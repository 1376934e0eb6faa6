package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
)

// appendBatchScript appends a batch of chained events if the chain's tail is still the expected
// one and every run the batch checks is still as it was read. KEYS: tail hash, event list, the
// appending store's landed key, then the checked runs' token and run keys and the space index
// lists the batch uses. ARGV: expected tail, event count, check count, the batch's last hash,
// then per check: its event's number in the batch, the KEYS positions of the run's token key and
// run key, the run's id and its record's digest; then per event: its JSON, its hash, how many
// spaces, and the KEYS position of each. The landed key keeps the last hash of the store's last
// appended batch for an hour: one store has one batch in flight, so a batch sent again after its
// reply was lost finds its own hash there, even after other replicas appended. Returns {1} when
// appended (or when the landed key says this very batch was), {0, current tail} when the tail
// moved, {2, n...} with the numbers of the events whose run changed; in the last two cases
// nothing is appended. A list key holding another type is an error before anything is written:
// Redis does not undo a script's writes when a later command fails, so an event pushed before a
// failing index push would stand in the chain for something never handed out.
var appendBatchScript = redis.NewScript(`
local tail = redis.call('GET', KEYS[1]) or ''
if tail ~= ARGV[1] then
  if redis.call('GET', KEYS[3]) == ARGV[4] then return {1} end
  return {0, tail}
end
local a, changed = 5, {2}
for _ = 1, tonumber(ARGV[3]) do
  local rec = redis.call('GET', KEYS[tonumber(ARGV[a + 2])])
  if redis.call('GET', KEYS[tonumber(ARGV[a + 1])]) ~= ARGV[a + 3] or not rec or redis.sha1hex(rec) ~= ARGV[a + 4] then
    changed[#changed + 1] = tonumber(ARGV[a])
  end
  a = a + 5
end
if #changed > 1 then return changed end
for i = 2, #KEYS do
  if i == 2 or i > 3 + 2 * tonumber(ARGV[3]) then
    local t = redis.call('TYPE', KEYS[i]).ok
    if t ~= 'list' and t ~= 'none' then
      return redis.error_reply('WRONGTYPE audit key ' .. KEYS[i] .. ' is not a list: nothing appended')
    end
  end
end
local last = tail
for _ = 1, tonumber(ARGV[2]) do
  local pos = redis.call('RPUSH', KEYS[2], ARGV[a]) - 1
  last = ARGV[a + 1]
  local spaces = tonumber(ARGV[a + 2])
  a = a + 3
  for _ = 1, spaces do
    redis.call('RPUSH', KEYS[tonumber(ARGV[a])], pos)
    a = a + 1
  end
end
redis.call('SET', KEYS[1], last)
redis.call('SET', KEYS[3], ARGV[4], 'EX', 3600)
return {1}
`)

// listEventsScript returns the index's length, how many of the positions of a space's index from
// ARGV[1] to ARGV[2] it covered, and their events. It reads the events of consecutive positions
// with one LRANGE, and reads at most ARGV[3] such runs: a read in the list costs time in
// proportion to its distance from the list's nearer end, and Redis serves nothing else while a
// script runs, so one call is bounded whatever the trail's length and the space's sparseness.
// KEYS: the space's index, the event list.
var listEventsScript = redis.NewScript(`
local idx = redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])
local out = {redis.call('LLEN', KEYS[1]), 0}
local i, runs = 1, 0
while i <= #idx and runs < tonumber(ARGV[3]) do
  local first = tonumber(idx[i])
  local j = i
  while j < #idx and tonumber(idx[j + 1]) == tonumber(idx[j]) + 1 do j = j + 1 end
  for _, e in ipairs(redis.call('LRANGE', KEYS[2], first, first + j - i)) do table.insert(out, e) end
  runs = runs + 1
  i = j + 1
end
out[2] = i - 1
return out
`)

// maxRunsPerCall bounds the reads of one listEventsScript call; a page takes as many calls as it
// needs, and other clients' commands run between them.
const maxRunsPerCall = 32

// headScript returns the chain's length, its tail, and the position and JSON of the last event
// of the checkpoint index (-1 and "" when none). KEYS: event list, tail hash, checkpoint index.
var headScript = redis.NewScript(`
local n = redis.call('LLEN', KEYS[1])
local tail = redis.call('GET', KEYS[2]) or ''
local at = redis.call('LINDEX', KEYS[3], -1)
if not at then return {n, tail, -1, ''} end
return {n, tail, tonumber(at), redis.call('LINDEX', KEYS[1], at) or ''}
`)

// appendCheckpointScript appends one checkpoint event if the chain's tail and the last
// checkpoint are still the expected ones. KEYS: tail hash, event list, checkpoint index, then
// the event's space indexes. ARGV: expected tail, expected position of the last checkpoint (-1
// for none), the event's JSON, its hash. Returns {1} when appended, {0, current tail} when the
// tail moved, {2} when another checkpoint came first; a list key holding another type is an
// error before anything is written, as in appendBatchScript.
var appendCheckpointScript = redis.NewScript(`
local tail = redis.call('GET', KEYS[1]) or ''
if tail ~= ARGV[1] then return {0, tail} end
local last = redis.call('LINDEX', KEYS[3], -1) or '-1'
if last ~= ARGV[2] then return {2} end
for i = 2, #KEYS do
  local t = redis.call('TYPE', KEYS[i]).ok
  if t ~= 'list' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE audit key ' .. KEYS[i] .. ' is not a list: nothing appended')
  end
end
local pos = redis.call('RPUSH', KEYS[2], ARGV[3]) - 1
for i = 3, #KEYS do redis.call('RPUSH', KEYS[i], pos) end
redis.call('SET', KEYS[1], ARGV[4])
return {1}
`)

// maxAppendTries bounds compare-and-swap retries of one batch when other replicas append too.
const maxAppendTries = 100

// maxBatch bounds how many events one script call appends.
const maxBatch = 256

// Audit returns the audit chain kept in this Redis: <prefix>audit:events (every event, in chain
// order), <prefix>audit:tail (the last event's hash) and <prefix>audit:space:<id> (positions of
// the events of a space's subtree; <prefix>audit:space:.checkpoints holds those of the
// checkpoints, see audit.CheckpointIndex). Nothing of these expires: the trail is kept until an
// operator archives it. Each store also keeps <prefix>audit:landed:<random id>, the last hash of
// its last batch, for an hour, so that a batch sent again after a lost reply lands once.
//
// Appends are group-committed: while one batch is on its way to Redis, the events appended
// meanwhile queue up and go as the next batch, chained in order, in one script call, which
// shares its round trip with the run lookups of concurrent requests (see roundTrips). So a
// replica appends at far more than one event per round trip, and only another replica's
// append can make a batch's compare-and-swap on the tail retry.
func (c *Client) Audit() audit.Store {
	id := make([]byte, 16)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	return &auditStore{c: c, id: hex.EncodeToString(id)}
}

// auditStore is the audit.Store view of a Client. It is also the part of a round trip that
// carries its batch: at most one round trip carries it at a time.
type auditStore struct {
	c *Client
	// id names this store's landed key (see appendBatchScript).
	id string

	mu    sync.Mutex
	queue []*pendingEvent
	// queued: the store waits in the round trips' queue or rides a round trip; an event
	// appended meanwhile goes with its next batch.
	queued bool

	// The fields below belong to the round trip that carries the store's batch.
	// tail is the last chain hash this replica saw.
	tail  string
	batch []*pendingEvent
	// last is the hash the batch's last event has when it chains onto tail.
	last string
	call scriptCall
	// cmd is the batch's script call in the round trip; nil when the batch could not be
	// encoded, with encodeErr saying why.
	cmd       *redis.Cmd
	encodeErr error
	tries     int
}

var _ part = (*auditStore)(nil)

// tailKey, eventsKey and spaceKey are the keys of the chain. On a Redis Cluster they share the
// hash tag of the "audit" group: every append touches the tail, the event list and indexes.
func (s *auditStore) tailKey() string { return s.c.key(s.c.group("audit")+"audit:", "tail") }

func (s *auditStore) eventsKey() string { return s.c.key(s.c.group("audit")+"audit:", "events") }

// landedKey holds the last hash of this store's last appended batch.
func (s *auditStore) landedKey() string {
	return s.c.key(s.c.group("audit")+"audit:landed:", s.id)
}

func (s *auditStore) spaceKey(space string) string {
	return s.c.key(s.c.group("audit")+"audit:space:", space)
}

type pendingEvent struct {
	event  audit.Event
	spaces []string
	// check is the run the event may land with only while unchanged; zero for none.
	check runs.Version
	done  chan appended
}

type appended struct {
	event audit.Event
	err   error
}

func (s *auditStore) Append(ctx context.Context, e audit.Event, spaces []string) (audit.Event, error) {
	return s.append(ctx, &pendingEvent{event: e, spaces: spaces, done: make(chan appended, 1)})
}

// AppendChecked implements audit.CheckedStore: the batch's script checks that the run's token
// key still names it and its record still has the digest v was read with. On a Cluster, where
// no script can reach both, it appends nothing and fails with runs.ErrChanged.
func (s *auditStore) AppendChecked(ctx context.Context, e audit.Event, spaces []string, v runs.Version) (audit.Event, error) {
	if s.c.cluster {
		return audit.Event{}, fmt.Errorf("%w: a Cluster cannot check a run while appending", runs.ErrChanged)
	}
	return s.append(ctx, &pendingEvent{event: e, spaces: spaces, check: v, done: make(chan appended, 1)})
}

// append queues p for the next batch and waits for its result. An event that has no canonical
// form fails here, alone: in a batch it would fail the batch's other events with it.
func (s *auditStore) append(ctx context.Context, p *pendingEvent) (audit.Event, error) {
	if err := audit.CheckCanonical(p.event); err != nil {
		return audit.Event{}, err
	}
	s.mu.Lock()
	s.queue = append(s.queue, p)
	join := s.queued
	s.queued = true
	s.mu.Unlock()
	if !join {
		s.c.rt.do(s)
	}
	select {
	case r := <-p.done:
		return r.event, r.err
	case <-ctx.Done():
		// The event may still be appended: an event of something not handed out is harmless,
		// a handed-out thing without its event is what must never happen.
		return audit.Event{}, ctx.Err()
	}
}

// add implements part: it chains the batch (the queued events, up to maxBatch, unless a batch
// goes again) onto the tail and queues the append script.
func (s *auditStore) add(ctx context.Context, p redis.Pipeliner) {
	s.cmd, s.encodeErr = nil, nil
	if s.batch == nil {
		s.mu.Lock()
		n := min(len(s.queue), maxBatch)
		s.batch = s.queue[:n:n]
		s.queue = s.queue[n:]
		if len(s.queue) == 0 {
			s.queue = nil // the batch keeps the array; the next event starts a new one
		}
		s.mu.Unlock()
		s.tries = 0
		s.call.bySource = false
	}
	keys := []string{s.tailKey(), s.eventsKey(), s.landedKey()}
	keyPos := map[string]int{}
	args := []any{s.tail, len(s.batch), 0, ""}
	runStore := runStore{c: s.c}
	checks := 0
	for i, p := range s.batch {
		if p.check.IsZero() {
			continue
		}
		keys = append(keys, runStore.tokenKey(hex.EncodeToString(p.check.Token[:])), runStore.runKey(p.check.ID))
		args = append(args, i+1, len(keys)-1, len(keys), p.check.ID, p.check.Digest)
		checks++
	}
	args[2] = checks
	prev := s.tail
	for _, p := range s.batch {
		for _, sp := range p.spaces {
			if _, ok := keyPos[sp]; !ok {
				keys = append(keys, s.spaceKey(sp))
				keyPos[sp] = len(keys) // Lua indexes KEYS from 1
			}
		}
		p.event.Prev = prev
		h, err := audit.Hash(p.event)
		if err != nil {
			s.encodeErr = err
			return
		}
		raw, err := json.Marshal(p.event)
		if err != nil {
			s.encodeErr = err
			return
		}
		args = append(args, raw, h, len(p.spaces))
		for _, sp := range p.spaces {
			args = append(args, keyPos[sp])
		}
		prev = h
	}
	s.last = prev
	args[3] = prev
	s.call.script, s.call.keys, s.call.args = appendBatchScript, keys, args
	s.cmd = s.call.queue(ctx, p)
}

// settle implements part: it answers the batch's callers, or sends the batch again onto the
// tail another replica moved. The store goes again while events are queued.
func (s *auditStore) settle() bool {
	var res []any
	err := s.encodeErr
	if s.cmd != nil {
		res, err = s.cmd.Slice()
	}
	switch {
	case s.encodeErr != nil:
		s.answer(s.encodeErr)
	case noScript(err) && !s.call.bySource:
		s.call.bySource = true
		return true
	case err != nil:
		s.answer(s.fail(context.Background(), err))
	case len(res) == 0:
		s.answer(errors.New("redisstore: audit append: unexpected script reply"))
	default:
		ok, _ := res[0].(int64)
		tail := ""
		if len(res) > 1 {
			tail, _ = res[1].(string)
		}
		switch {
		case ok == 2:
			// Runs changed: their events fail, and the rest of the batch goes again.
			if s.refuseChanged(res[1:]) {
				return true
			}
		case ok == 1 || tail == s.last:
			// tail == s.last: the batch landed, but its reply was lost and the client sent it
			// again, and the landed key is gone (evicted); chaining the batch once more would
			// record every event twice.
			s.tail = s.last
			s.answer(nil)
		case len(res) < 2:
			s.answer(errors.New("redisstore: audit append: unexpected script reply"))
		default:
			s.tail = tail // another replica appended first: chain onto its event
			if s.tries++; s.tries < maxAppendTries {
				return true
			}
			s.answer(fmt.Errorf("%w: audit append: %d concurrent retries", audit.ErrUnavailable, maxAppendTries))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		return true
	}
	s.queued = false
	return false
}

// refuseChanged fails the batch's events numbered in nums (from 1) with runs.ErrChanged and
// keeps the others, reporting whether any are left to send again. A reply naming none of the
// batch's events fails the whole batch: sending it again would get the same reply for ever.
func (s *auditStore) refuseChanged(nums []any) bool {
	refused := make([]bool, len(s.batch))
	named := 0
	for _, n := range nums {
		if i, ok := n.(int64); ok && i >= 1 && int(i) <= len(s.batch) && !refused[i-1] {
			refused[i-1] = true
			named++
		}
	}
	if named == 0 {
		s.answer(errors.New("redisstore: audit append: unexpected script reply: no changed run named"))
		return false
	}
	kept := s.batch[:0]
	for i, p := range s.batch {
		if refused[i] {
			p.done <- appended{err: fmt.Errorf("%w: run %s", runs.ErrChanged, p.check.ID)}
			continue
		}
		kept = append(kept, p)
	}
	clear(s.batch[len(kept):])
	s.batch = kept
	if len(kept) == 0 {
		s.batch = nil
		return false
	}
	return true
}

// answer gives every waiting Append of the batch its result, and ends the batch.
func (s *auditStore) answer(err error) {
	for _, p := range s.batch {
		if err != nil {
			p.done <- appended{err: err}
		} else {
			p.done <- appended{event: p.event}
		}
	}
	s.batch = nil
}

func (s *auditStore) List(ctx context.Context, space, cursor string, limit int) ([]audit.Event, string, error) {
	from, err := audit.ParseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		return []audit.Event{}, cursor, nil
	}
	var (
		out   []audit.Event
		total int64
		at    = from
	)
	for at < from+int64(limit) {
		// Each call is one round trip to Redis, bounded as every other is.
		cctx, cancel := s.c.bound(ctx)
		res, err := listEventsScript.Run(cctx, s.c.rdb,
			[]string{s.spaceKey(space), s.eventsKey()}, at, from+int64(limit)-1, maxRunsPerCall).Slice()
		cancel()
		if err != nil {
			return nil, "", s.fail(ctx, err)
		}
		total, _ = res[0].(int64)
		covered, _ := res[1].(int64)
		if int64(len(res)-2) != covered {
			// Positions past the event list's end: the store was changed by hand.
			return nil, "", fmt.Errorf("redisstore: the audit index of space %q names %d events from position %d, the event list holds %d of them",
				space, covered, at, len(res)-2)
		}
		for _, v := range res[2:] {
			str, _ := v.(string)
			var e audit.Event
			if err := json.Unmarshal([]byte(str), &e); err != nil {
				return nil, "", fmt.Errorf("redisstore: stored audit event is not JSON: %w", err)
			}
			out = append(out, e)
		}
		if covered == 0 {
			break // the index ends here
		}
		at += covered
	}
	if out == nil {
		out = []audit.Event{}
	}
	next := ""
	if end := from + int64(len(out)); end < total {
		next = strconv.FormatInt(end, 10)
	}
	return out, next, nil
}

func (s *auditStore) Head(ctx context.Context) (audit.Head, error) {
	cctx, cancel := s.c.bound(ctx)
	defer cancel()
	res, err := headScript.Run(cctx, s.c.rdb, []string{
		s.eventsKey(), s.tailKey(), s.spaceKey(audit.CheckpointIndex),
	}).Slice()
	if err != nil {
		return audit.Head{}, s.fail(ctx, err)
	}
	if len(res) != 4 {
		return audit.Head{}, errors.New("redisstore: audit head: unexpected script reply")
	}
	h := audit.Head{}
	h.Count, _ = res[0].(int64)
	h.Tail, _ = res[1].(string)
	at, _ := res[2].(int64)
	if raw, _ := res[3].(string); at >= 0 && raw != "" {
		var e audit.Event
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return audit.Head{}, fmt.Errorf("redisstore: stored audit event is not JSON: %w", err)
		}
		h.Checkpoint, h.CheckpointAt = &e, at
	}
	return h, nil
}

// AppendCheckpoint appends a checkpoint past the group commit: it is rare, and its condition
// on the last checkpoint must hold at the moment it lands.
func (s *auditStore) AppendCheckpoint(ctx context.Context, e audit.Event, spaces []string, after int64) (audit.Event, bool, error) {
	head, err := s.Head(ctx)
	if err != nil {
		return audit.Event{}, false, err
	}
	keys := []string{s.tailKey(), s.eventsKey(), s.spaceKey(audit.CheckpointIndex)}
	for _, sp := range spaces {
		keys = append(keys, s.spaceKey(sp))
	}
	tail := head.Tail
	for try := 0; try < maxAppendTries; try++ {
		e.Prev = tail
		h, err := audit.Hash(e)
		if err != nil {
			return audit.Event{}, false, err
		}
		raw, err := json.Marshal(e)
		if err != nil {
			return audit.Event{}, false, err
		}
		cctx, cancel := s.c.bound(ctx)
		res, err := appendCheckpointScript.Run(cctx, s.c.rdb, keys, tail, after, raw, h).Slice()
		cancel()
		if err != nil {
			return audit.Event{}, false, s.fail(ctx, err)
		}
		switch ok, _ := res[0].(int64); {
		case ok == 1:
			return e, true, nil
		case ok == 2:
			// Another checkpoint came first, unless it is this one: a call whose reply was lost
			// and which the client sent again landed, and the checkpoint is written. Or the head
			// still shows the one expected: then the index names a checkpoint the head cannot
			// read (a position past the chain's end, changed in the store), and every later
			// attempt would end here unnoticed.
			now, err := s.Head(ctx)
			switch {
			case err == nil && now.Checkpoint != nil && now.Checkpoint.ID == e.ID:
				return *now.Checkpoint, true, nil
			case err == nil && checkpointPosition(now) == after:
				return audit.Event{}, false, errors.New("redisstore: the audit checkpoint index names a position the event list does not hold (changed in the store): no checkpoint can be appended")
			}
			return audit.Event{}, false, nil
		case len(res) < 2:
			return audit.Event{}, false, errors.New("redisstore: audit checkpoint: unexpected script reply")
		}
		tail, _ = res[1].(string) // events landed meanwhile: chain onto the last
	}
	return audit.Event{}, false, fmt.Errorf("%w: audit checkpoint: %d concurrent retries", audit.ErrUnavailable, maxAppendTries)
}

// checkpointPosition is the position of h's last checkpoint, -1 when none.
func checkpointPosition(h audit.Head) int64 {
	if h.Checkpoint == nil {
		return -1
	}
	return h.CheckpointAt
}

func (s *auditStore) fail(ctx context.Context, err error) error {
	err = s.c.fail(ctx, "audit", err)
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", audit.ErrUnavailable, err)
	}
	return err
}
