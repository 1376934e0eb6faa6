package audit

import (
	"context"
	"math"
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
// not yet received) and a lease so that, of the replicas sharing the store, one at a time
// delivers to a sink.
type Cursors interface {
	// Claim takes sink's lease for holder, or renews it if holder already holds it, for ttl,
	// and reports whether holder holds it now.
	Claim(ctx context.Context, sink, holder string, ttl time.Duration) (bool, error)
	// Release gives up sink's lease if holder holds it.
	Release(ctx context.Context, sink, holder string) error
	// Cursor returns sink's cursor: 0 when none was ever saved.
	Cursor(ctx context.Context, sink string) (int64, error)
	// Advance saves pos as sink's cursor if holder holds its lease; a cursor never moves back.
	// It reports whether holder held the lease.
	Advance(ctx context.Context, sink, holder string, pos int64) (bool, error)
}

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
	cursors map[string]int64
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
	return &MemoryCursors{cursors: map[string]int64{}, leases: map[string]memoryLease{}, now: now}
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
func (c *MemoryCursors) Cursor(_ context.Context, sink string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursors[sink], nil
}

// Advance implements Cursors.
func (c *MemoryCursors) Advance(_ context.Context, sink, holder string, pos int64) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.leases[sink]; !ok || l.holder != holder || !c.now().Before(l.until) {
		return false, nil
	}
	c.cursors[sink] = max(c.cursors[sink], pos)
	return true, nil
}

// Floor returns the lowest cursor of sinks (0 for a sink without one): the first event one of
// them has not received, for Memory.HoldFor; math.MaxInt64 when sinks is empty.
func (c *MemoryCursors) Floor(sinks []string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	floor := int64(math.MaxInt64)
	for _, s := range sinks {
		floor = min(floor, c.cursors[s])
	}
	return floor
}
