package runs

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Memory is a Store held in process memory: fine for one replica, lost on restart.
// Expired runs are invisible at once and removed lazily when touched, or by Sweep.
// The zero value is not usable; call NewMemory.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	byID    map[string]*memoryEntry
	byToken map[TokenHash]string
}

// memoryEntry is one stored run and the hash of its token.
type memoryEntry struct {
	run   Run
	token TokenHash
	// gen counts the entry's updates: its Version's digest.
	gen uint64
}

var (
	_ Store     = (*Memory)(nil)
	_ Versioned = (*Memory)(nil)
	_ Holder    = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store that reads the time from now (nil means
// time.Now), so tests can drive expiry with a fake clock.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{
		now:     now,
		byID:    make(map[string]*memoryEntry),
		byToken: make(map[TokenHash]string),
	}
}

// Create implements Store.
func (m *Memory) Create(ctx context.Context, run Run, token TokenHash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.live(run.ID, now) != nil {
		return fmt.Errorf("%w: id %s is taken", ErrExists, run.ID)
	}
	if id, ok := m.byToken[token]; ok && m.live(id, now) != nil {
		return fmt.Errorf("%w: token already belongs to another run", ErrExists)
	}
	m.byID[run.ID] = &memoryEntry{run: run, token: token}
	if run.Phase != Finished {
		m.byToken[token] = run.ID
	}
	return nil
}

// Get implements Store.
func (m *Memory) Get(ctx context.Context, id string) (Run, error) {
	if err := ctx.Err(); err != nil {
		return Run{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(id, m.now())
	if e == nil {
		return Run{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return e.run, nil
}

// GetByToken implements Store.
func (m *Memory) GetByToken(ctx context.Context, token TokenHash) (Run, error) {
	run, _, err := m.GetByTokenVersion(ctx, token)
	return run, err
}

// GetByTokenVersion implements Versioned.
func (m *Memory) GetByTokenVersion(ctx context.Context, token TokenHash) (Run, Version, error) {
	if err := ctx.Err(); err != nil {
		return Run{}, Version{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byTokenLive(token)
	if e == nil {
		return Run{}, Version{}, fmt.Errorf("%w: unknown run token", ErrNotFound)
	}
	return e.run, Version{ID: e.run.ID, Token: token, Digest: strconv.FormatUint(e.gen, 10)}, nil
}

// WhileUnchanged implements Holder: the run must still be live, its token still its own, and
// not updated since v was read.
func (m *Memory) WhileUnchanged(v Version, fn func() error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byTokenLive(v.Token)
	if e == nil || e.run.ID != v.ID || strconv.FormatUint(e.gen, 10) != v.Digest {
		return ErrChanged
	}
	return fn()
}

// byTokenLive returns the entry of the live, unfinished run token belongs to; nil when there
// is none. The caller holds m.mu.
func (m *Memory) byTokenLive(token TokenHash) *memoryEntry {
	id, ok := m.byToken[token]
	if !ok {
		return nil
	}
	e := m.live(id, m.now())
	if e == nil || e.token != token || e.run.Phase == Finished {
		return nil
	}
	return e
}

// Update implements Store. fn runs under the store's lock, so it must be quick and must not
// call back into the store. The run's id cannot be changed.
func (m *Memory) Update(ctx context.Context, id string, fn func(Run) (Run, error)) (Run, error) {
	if err := ctx.Err(); err != nil {
		return Run{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.live(id, m.now())
	if e == nil {
		return Run{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	next, err := fn(e.run) // Run holds only values, so fn gets a copy.
	if err != nil {
		return Run{}, err
	}
	next.ID = e.run.ID
	e.run = next
	e.gen++
	if next.Phase == Finished {
		m.revoke(e)
	}
	return next, nil
}

// Ping implements Store; memory is always reachable.
func (m *Memory) Ping(ctx context.Context) error { return ctx.Err() }

// Sweep removes every expired run and returns how many it removed. Calling it is optional:
// expired runs are never served either way; Sweep only frees their memory.
func (m *Memory) Sweep() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	n := 0
	for id, e := range m.byID {
		if expired(e.run, now) {
			m.remove(id, e)
			n++
		}
	}
	return n
}

// Len returns the number of stored runs, expired ones not yet swept included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

// live returns the entry for id, or nil when there is none or it expired (removing it).
// The caller holds m.mu.
func (m *Memory) live(id string, now time.Time) *memoryEntry {
	e, ok := m.byID[id]
	if !ok {
		return nil
	}
	if expired(e.run, now) {
		m.remove(id, e)
		return nil
	}
	return e
}

// remove deletes an entry and its token mapping. The caller holds m.mu.
func (m *Memory) remove(id string, e *memoryEntry) {
	delete(m.byID, id)
	m.revoke(e)
}

// revoke deletes the entry's token mapping if it still points at the entry.
// The caller holds m.mu.
func (m *Memory) revoke(e *memoryEntry) {
	if m.byToken[e.token] == e.run.ID {
		delete(m.byToken, e.token)
	}
}

// expired reports whether run is past its expiry at now.
func expired(run Run, now time.Time) bool { return !now.Before(run.ExpiresAt) }
