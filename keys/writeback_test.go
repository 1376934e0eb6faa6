package keys_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// wipeable is a Backend whose store can be lost: wipe replaces it with an empty one.
type wipeable struct {
	mu sync.Mutex
	keys.Backend
}

func (w *wipeable) current() keys.Backend {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.Backend
}

func (w *wipeable) wipe() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Backend = keys.NewMemory()
}

func (w *wipeable) Load(ctx context.Context) (keys.Set, error) { return w.current().Load(ctx) }
func (w *wipeable) Save(ctx context.Context, s keys.Set) error { return w.current().Save(ctx, s) }

// TestWriteBackAfterTheStoreLostTheSet: with WriteBack, a Manager whose store lost the key set
// saves the set in force back, and goes on publishing and signing with its keys; without it,
// it takes the empty set, and a new key signs at once.
func TestWriteBackAfterTheStoreLostTheSet(t *testing.T) {
	for _, writeBack := range []bool{true, false} {
		store := &wipeable{Backend: keys.NewMemory()}
		m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: fakeclock.New(t0).Now, WriteBack: writeBack})
		refresh(t, m)
		before := m.Snapshot().Signing.KID
		store.wipe()
		refresh(t, m)
		after := m.Snapshot()
		stored, err := store.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		kept := after.Signing.KID == before && slices.ContainsFunc(stored.Keys, func(k keys.Key) bool { return k.KID == before })
		if kept != writeBack {
			t.Errorf("WriteBack %v: signing %s, stored %v, before %s", writeBack, after.Signing.KID, snapKIDs(stored.Keys), before)
		}
	}
}
