package keys_test

import (
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestARestoredStoreCaughtUpToTheGenerationKeepsTheSigningKey: the store (WriteBack) is
// restored from a backup of generation 1; another replica, restarted on it, decides the rotation
// due and saves generation 2, the generation replica a holds in force. That set does not come
// from the one in force (two sets of one generation that differ): a writes back both sets' keys,
// so the key it has signed with for hours (K2) stays in its JWKS and the store, and the retired
// K1 does not sign again.
// Guards against: wentback.go:load taking a set of the generation in force that leaves out the
// key in force
func TestARestoredStoreCaughtUpToTheGenerationKeepsTheSigningKey(t *testing.T) {
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	a := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, a)
	backup := mustLoad(t, store) // generation 1 {K1}
	k1 := a.Snapshot().Signing.KID

	clk.Set(h(700))
	refresh(t, a) // rotation: K2 signs from ~h(724)
	clk.Set(h(730))
	refresh(t, a)
	k2 := a.Snapshot().Signing.KID
	if k2 == k1 || a.Snapshot().Generation != 2 {
		t.Fatalf("setup: signing %s (K1 %s), generation %d", k2, k1, a.Snapshot().Generation)
	}

	putBack(t, store, backup) // restored from the old backup: generation 1 {K1}
	c := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, c) // c decides the rotation due on K1: generation 2 {K1, K3}

	clk.Set(h(731))
	refresh(t, a)
	snap := a.Snapshot()
	stored := mustLoad(t, store)
	if !slices.Contains(snapKIDs(snap.Published), k2) {
		t.Errorf("replica a no longer publishes K2 %s, which it signed with since h(724): published %v (generation %d)", k2, snapKIDs(snap.Published), snap.Generation)
	}
	if _, ok := stored.Find(k2); !ok {
		t.Errorf("the store no longer holds K2 %s: %v", k2, snapKIDs(stored.Keys))
	}
	if snap.Signing.KID == k1 {
		t.Errorf("replica a signs again with the retired K1 %s", k1)
	}
	// c takes the set a wrote back, and the two settle: no more saves.
	refresh(t, c)
	if !slices.Contains(snapKIDs(c.Snapshot().Published), k2) {
		t.Errorf("replica c does not publish K2 %s after a wrote it back: %v", k2, snapKIDs(c.Snapshot().Published))
	}
	settled := mustLoad(t, store).Generation
	for range 3 {
		clk.Set(clk.Now().Add(30 * time.Second))
		refresh(t, a)
		refresh(t, c)
	}
	if g := mustLoad(t, store).Generation; g != settled {
		t.Errorf("the store's generation went on from %d to %d with nothing to change: the replicas save in turn", settled, g)
	}
}
