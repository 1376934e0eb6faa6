package ratelimit

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// MaxTracked is the most keys the memory Limiter tracks at once. At the cap, a new key first
// displaces keys whose window and block are over, then the key that failed least recently
// without being blocked, and only when every tracked key is blocked, the block that ends
// first. So many distinct sources cost bounded memory, and cannot flush a block out while
// unblocked keys remain to be dropped.
const MaxTracked = 100_000

// Memory is a Limiter for a single replica.
type Memory struct {
	policy Policy
	now    func() time.Time
	limit  int

	mu      sync.Mutex
	entries map[string]*entry
	// counting holds the entries that were not blocked at their last failure, least recently
	// failed first; blocked holds the others, earliest end of block first. windows holds the
	// entries of counting again, earliest window start first, so that those whose window is
	// over are found first whenever they last failed.
	counting, blocked, windows *list.List
}

type entry struct {
	key          string
	windowStart  time.Time
	failures     int
	blockedUntil time.Time
	// elem is the entry's place in counting or (when inBlocked) blocked.
	elem      *list.Element
	inBlocked bool
	// winElem is the entry's place in windows while it is in counting.
	winElem *list.Element
}

// NewMemory returns a memory Limiter that tracks at most MaxTracked keys; now nil means
// time.Now.
func NewMemory(p Policy, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{
		policy: p, now: now, limit: MaxTracked,
		entries: map[string]*entry{}, counting: list.New(), blocked: list.New(), windows: list.New(),
	}
}

// Failed implements Limiter.
func (m *Memory) Failed(_ context.Context, key string) (time.Duration, error) {
	if m.policy.AuthFailures <= 0 {
		return 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now() // under the lock, so that the lists' times follow the lock's order
	e, ok := m.entries[key]
	if !ok {
		m.makeRoom(now)
		e = &entry{key: key, windowStart: now}
		m.entries[key] = e
	}
	wait := max(e.blockedUntil.Sub(now), 0)
	// A count starts its window at its first failure, also the count that a block started
	// afresh (as the Redis limiter's counter does).
	if e.failures == 0 || now.Sub(e.windowStart) >= m.policy.Window {
		e.windowStart, e.failures = now, 0
		if e.winElem != nil {
			m.windows.MoveToBack(e.winElem)
		}
	}
	e.failures++
	if e.failures >= m.policy.AuthFailures {
		e.blockedUntil = now.Add(m.policy.Cooloff)
		e.windowStart, e.failures = now, 0
		m.unlist(e) // a block that just started or was extended goes to the back of blocked
	}
	m.file(e, now)
	return wait, nil
}

// file puts e, which just failed, in its place: at the back of counting when it is not
// blocked (and of windows when it enters counting), at the back of blocked when it is not
// listed (a block that just started or was extended is unlisted first). Every block lasts
// Cooloff, so blocked stays ordered by end; an entry whose window starts when it enters
// counting keeps windows in order, which only an entry back from a block shorter than its
// window (Cooloff under Window) can upset. The caller holds mu.
func (m *Memory) file(e *entry, now time.Time) {
	isBlocked := e.blockedUntil.After(now)
	if isBlocked && e.elem != nil && e.inBlocked {
		return // still in order
	}
	m.unlist(e)
	if isBlocked {
		e.elem, e.inBlocked = m.blocked.PushBack(e), true
		m.unwindow(e)
		return
	}
	e.elem, e.inBlocked = m.counting.PushBack(e), false
	if e.winElem == nil {
		e.winElem = m.windows.PushBack(e)
	}
}

// makeRoom drops entries until a new one fits under the cap: first those whose block ended and
// whose window is over, at the front of blocked and of windows (a block that ended with
// failures in a window still open moves to the unblocked lists), then the least recently
// failed unblocked entry, and only when none is left, the block that ends first. The caller
// holds mu.
func (m *Memory) makeRoom(now time.Time) {
	if len(m.entries) < m.limit {
		return
	}
	for f := m.blocked.Front(); f != nil && !f.Value.(*entry).blockedUntil.After(now); f = m.blocked.Front() {
		// A block that ended may leave failures in a window still open: those count on, as
		// an unblocked entry's (at the back of its list: kept a little longer, never less).
		if e := f.Value.(*entry); e.failures == 0 || m.expired(e, now) {
			m.drop(e)
		} else {
			m.file(e, now)
		}
	}
	for f := m.windows.Front(); f != nil && m.expired(f.Value.(*entry), now); f = m.windows.Front() {
		m.drop(f.Value.(*entry))
	}
	for len(m.entries) >= m.limit {
		f := m.counting.Front()
		if f == nil {
			f = m.blocked.Front()
		}
		m.drop(f.Value.(*entry))
	}
}

// expired reports whether e's window and block are both over.
func (m *Memory) expired(e *entry, now time.Time) bool {
	return now.Sub(e.windowStart) >= m.policy.Window && !e.blockedUntil.After(now)
}

// unlist takes e out of the list that holds it, if any. The caller holds mu.
func (m *Memory) unlist(e *entry) {
	switch {
	case e.elem == nil:
	case e.inBlocked:
		m.blocked.Remove(e.elem)
	default:
		m.counting.Remove(e.elem)
	}
	e.elem = nil
}

// unwindow takes e out of windows, if it is there. The caller holds mu.
func (m *Memory) unwindow(e *entry) {
	if e.winElem != nil {
		m.windows.Remove(e.winElem)
		e.winElem = nil
	}
}

// drop forgets e. The caller holds mu.
func (m *Memory) drop(e *entry) {
	m.unlist(e)
	m.unwindow(e)
	delete(m.entries, e.key)
}
