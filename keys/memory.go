package keys

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory is a Backend that keeps the key set in process memory: for one replica, tests and the
// embedded default configuration. The zero value is not usable; call NewMemory.
type Memory struct {
	mu  sync.Mutex
	set Set
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty in-memory backend.
func NewMemory() *Memory { return &Memory{} }

// Load returns a copy of the current set.
func (m *Memory) Load(ctx context.Context) (Set, error) {
	if err := ctx.Err(); err != nil {
		return Set{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set.Clone(), nil
}

// Generate creates a key in process (see GenerateLocal).
func (m *Memory) Generate(ctx context.Context, alg string, now time.Time) (Key, error) {
	return GenerateLocal(ctx, alg, now)
}

// Save replaces the set with a copy of next if the stored generation is next.Generation-1, and
// fails with ErrConflict otherwise.
func (m *Memory) Save(ctx context.Context, next Set) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := next.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set.Generation != next.Generation-1 {
		return fmt.Errorf("%w: stored generation %d, saving %d", ErrConflict, m.set.Generation, next.Generation)
	}
	m.set = next.Clone()
	return nil
}
