package audit

import (
	"context"
	"sync"

	"github.com/brokerhq/broker/keys"
)

// KeySetStore keeps, beside the trail, the key set the trail last recorded (its generation and
// its keys' metadata, never key material): a replica compares the first set it loads with it
// (keys.Config.Recorded), so a change made while no replica ran reaches the trail too.
type KeySetStore interface {
	// LoadKeySet returns the key set last saved; found is false when none was ever saved.
	LoadKeySet(ctx context.Context) (set keys.SetMeta, found bool, err error)
	// SaveKeySet replaces the key set kept with set.
	SaveKeySet(ctx context.Context, set keys.SetMeta) error
}

// MemoryKeySet is a KeySetStore in memory, beside a Memory trail: it holds nothing at start.
type MemoryKeySet struct {
	mu    sync.Mutex
	set   keys.SetMeta
	found bool
}

var _ KeySetStore = (*MemoryKeySet)(nil)

// LoadKeySet implements KeySetStore.
func (m *MemoryKeySet) LoadKeySet(context.Context) (keys.SetMeta, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return cloneSetMeta(m.set), m.found, nil
}

// SaveKeySet implements KeySetStore.
func (m *MemoryKeySet) SaveKeySet(_ context.Context, set keys.SetMeta) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set, m.found = cloneSetMeta(set), true
	return nil
}

// cloneSetMeta returns a copy of s whose Keys the caller may change.
func cloneSetMeta(s keys.SetMeta) keys.SetMeta {
	s.Keys = append([]keys.Meta(nil), s.Keys...)
	return s
}
