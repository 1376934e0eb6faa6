package ratelimit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Policy: AuthFailures failures within Window block an address for Cooloff. A zero AuthFailures
// disables the limiter.
type Policy struct {
	AuthFailures int
	Window       time.Duration
	Cooloff      time.Duration
}

// Limiter counts failures per client address.
type Limiter interface {
	// Blocked returns how long addr must still wait, zero when it is not blocked.
	Blocked(ctx context.Context, addr string) (time.Duration, error)
	// Failed records one failure of addr, blocking it when the policy's threshold is reached.
	Failed(ctx context.Context, addr string) error
}

// ErrUnavailable wraps failures to reach a shared limiter's backing store.
var ErrUnavailable = errors.New("rate limiter unavailable")

// maxTracked bounds the memory limiter's table; past it, stale entries are swept.
const maxTracked = 100_000

// Memory is a Limiter for a single replica.
type Memory struct {
	policy Policy
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	windowStart  time.Time
	failures     int
	blockedUntil time.Time
}

// NewMemory returns a memory Limiter; now nil means time.Now.
func NewMemory(p Policy, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{policy: p, now: now, entries: map[string]*entry{}}
}

// Blocked implements Limiter.
func (m *Memory) Blocked(_ context.Context, addr string) (time.Duration, error) {
	if m.policy.AuthFailures <= 0 {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[addr]
	if !ok {
		return 0, nil
	}
	if wait := e.blockedUntil.Sub(m.now()); wait > 0 {
		return wait, nil
	}
	return 0, nil
}

// Failed implements Limiter.
func (m *Memory) Failed(_ context.Context, addr string) error {
	if m.policy.AuthFailures <= 0 {
		return nil
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[addr]
	if !ok {
		if len(m.entries) >= maxTracked {
			m.sweep(now)
		}
		e = &entry{windowStart: now}
		m.entries[addr] = e
	}
	if now.Sub(e.windowStart) >= m.policy.Window {
		e.windowStart, e.failures = now, 0
	}
	e.failures++
	if e.failures >= m.policy.AuthFailures {
		e.blockedUntil = now.Add(m.policy.Cooloff)
		e.windowStart, e.failures = now, 0
	}
	return nil
}

// sweep drops entries whose window and block are both over. The caller holds mu.
func (m *Memory) sweep(now time.Time) {
	for addr, e := range m.entries {
		if now.Sub(e.windowStart) >= m.policy.Window && !now.Before(e.blockedUntil) {
			delete(m.entries, addr)
		}
	}
}
