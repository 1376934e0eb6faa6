package vaulttransit

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/brokerhq/broker/keys"
)

// Record is what broker keeps of one key: its metadata and the Transit key version that holds
// it. It holds no private material.
type Record struct {
	keys.Meta
	// TransitKey and TransitVersion name the Transit key version.
	TransitKey     string `json:"transit_key"`
	TransitVersion int    `json:"transit_version"`
}

// Records is the stored key set: its generation, its keys and its latest revocations.
type Records struct {
	Generation int64
	Keys       []Record
	Revoked    []keys.Revocation
}

// MetaStore keeps the key set's Records.
type MetaStore interface {
	// Load returns the stored records (generation 0 and none when nothing was saved).
	Load(ctx context.Context) (Records, error)
	// Save stores next if the stored generation is still next.Generation-1, and fails with
	// keys.ErrConflict otherwise.
	Save(ctx context.Context, next Records) error
}

// MemoryMeta is a MetaStore in process memory, for one replica.
type MemoryMeta struct {
	mu   sync.Mutex
	recs Records
}

var _ MetaStore = (*MemoryMeta)(nil)

// NewMemoryMeta returns an empty MemoryMeta.
func NewMemoryMeta() *MemoryMeta { return &MemoryMeta{} }

// Load implements MetaStore.
func (m *MemoryMeta) Load(ctx context.Context) (Records, error) {
	if err := ctx.Err(); err != nil {
		return Records{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return Records{Generation: m.recs.Generation, Keys: slices.Clone(m.recs.Keys), Revoked: slices.Clone(m.recs.Revoked)}, nil
}

// Save implements MetaStore.
func (m *MemoryMeta) Save(ctx context.Context, next Records) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs.Generation != next.Generation-1 {
		return fmt.Errorf("%w: stored generation %d, saving %d", keys.ErrConflict, m.recs.Generation, next.Generation)
	}
	m.recs = Records{Generation: next.Generation, Keys: slices.Clone(next.Keys), Revoked: slices.Clone(next.Revoked)}
	return nil
}
