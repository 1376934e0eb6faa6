package audit

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Reader reads the whole chain by position, for whatever forwards it elsewhere (audit sinks).
type Reader interface {
	// Range returns at most limit events of the chain, oldest first, starting at position from,
	// and the position of the first one returned. That position is past from only when the
	// store no longer holds the events before it (a memory store drops its oldest events); no
	// events (and from) when the chain has none at from yet.
	Range(ctx context.Context, from int64, limit int) ([]Event, int64, error)
}

// Cursors keeps, beside the chain, each sink's cursor (the position of the first event it has
// not yet received, and marks identifying events it received) and a lease so that, of the
// replicas sharing the store, one at a time delivers to a sink.
type Cursors interface {
	// Claim takes sink's lease for holder, or renews it if holder already holds it, for ttl,
	// and reports whether holder holds it now.
	Claim(ctx context.Context, sink, holder string, ttl time.Duration) (bool, error)
	// Release gives up sink's lease if holder holds it.
	Release(ctx context.Context, sink, holder string) error
	// Cursor returns sink's cursor: position 0 and no marks when none was ever saved.
	Cursor(ctx context.Context, sink string) (SinkCursor, error)
	// Advance saves to as sink's cursor if holder holds its lease and to.Pos lies past the saved
	// position: Advance never moves a cursor back. It reports whether holder held the lease.
	Advance(ctx context.Context, sink, holder string, to SinkCursor) (bool, error)
	// Rewind saves to as sink's cursor if holder holds its lease and to.Pos is not past the
	// saved position: for a chain that went back below events the sink received. It reports
	// whether holder held the lease.
	Rewind(ctx context.Context, sink, holder string, to SinkCursor) (bool, error)
}

// SinkCursor is where a sink stands in the chain.
type SinkCursor struct {
	// Pos is the position of the first event the sink has not received.
	Pos int64 `json:"pos"`
	// Marks identify events the sink received, newest first: when the first is at Pos-1 (see
	// Known) a store that lost the end of the chain and appended new events in its place is
	// told from the chain the sink received. None when unknown (a cursor saved by a broker that
	// kept no marks).
	Marks []Mark `json:"marks,omitempty"`
}

// Mark is the hash (see Hash) of the event at Pos when a sink received it.
type Mark struct {
	Pos  int64  `json:"pos"`
	Hash string `json:"hash"`
}

// Known reports whether c identifies the last event the sink received: its first mark is at
// Pos-1.
func (c SinkCursor) Known() bool { return len(c.Marks) > 0 && c.Marks[0].Pos == c.Pos-1 }

// Range implements Reader.
func (m *Memory) Range(_ context.Context, from int64, limit int) ([]Event, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	from = max(from, int64(m.log.dropped))
	if limit <= 0 || from >= int64(m.log.end()) {
		return []Event{}, from, nil
	}
	start := int(from)
	end := start + min(limit, m.log.end()-start)
	out := make([]Event, 0, end-start)
	for pos := start; pos < end; pos++ {
		out = append(out, m.packer.unpack(m.log.at(pos)))
	}
	return out, from, nil
}

// MemoryCursors is Cursors for one replica: cursors and leases live as long as the process.
type MemoryCursors struct {
	mu      sync.Mutex
	cursors map[string]SinkCursor
	leases  map[string]memoryLease
	now     func() time.Time
}

type memoryLease struct {
	holder string
	until  time.Time
}

// NewMemoryCursors returns empty MemoryCursors on the clock now (time.Now when nil).
func NewMemoryCursors(now func() time.Time) *MemoryCursors {
	if now == nil {
		now = time.Now
	}
	return &MemoryCursors{cursors: map[string]SinkCursor{}, leases: map[string]memoryLease{}, now: now}
}

// Claim implements Cursors.
func (c *MemoryCursors) Claim(_ context.Context, sink, holder string, ttl time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if l, ok := c.leases[sink]; ok && l.holder != holder && now.Before(l.until) {
		return false, nil
	}
	c.leases[sink] = memoryLease{holder: holder, until: now.Add(ttl)}
	return true, nil
}

// Release implements Cursors.
func (c *MemoryCursors) Release(_ context.Context, sink, holder string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.leases[sink]; ok && l.holder == holder {
		delete(c.leases, sink)
	}
	return nil
}

// Cursor implements Cursors.
func (c *MemoryCursors) Cursor(_ context.Context, sink string) (SinkCursor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.cursors[sink]
	cur.Marks = slices.Clone(cur.Marks)
	return cur, nil
}

// Advance implements Cursors.
func (c *MemoryCursors) Advance(_ context.Context, sink, holder string, to SinkCursor) (bool, error) {
	return c.save(sink, holder, to, func(saved int64) bool { return to.Pos > saved })
}

// Rewind implements Cursors.
func (c *MemoryCursors) Rewind(_ context.Context, sink, holder string, to SinkCursor) (bool, error) {
	return c.save(sink, holder, to, func(saved int64) bool { return to.Pos <= saved })
}

// save saves to as sink's cursor if holder holds the lease and move allows it from the saved
// position; it reports whether holder held the lease.
func (c *MemoryCursors) save(sink, holder string, to SinkCursor, move func(saved int64) bool) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.leases[sink]; !ok || l.holder != holder || !c.now().Before(l.until) {
		return false, nil
	}
	if move(c.cursors[sink].Pos) {
		to.Marks = slices.Clone(to.Marks)
		c.cursors[sink] = to
	}
	return true, nil
}

// Floor returns the lowest cursor of sinks (0 for a sink without one): the first event one of
// them has not received, for Memory.HoldFor; math.MaxInt64 when sinks is empty.
func (c *MemoryCursors) Floor(sinks []string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	floor := int64(math.MaxInt64)
	for _, s := range sinks {
		floor = min(floor, c.cursors[s].Pos)
	}
	return floor
}
