package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestWipedStoreTwoOldReplicasKeepNewReplicasKey: as TestWipedStoreKeepsEveryReplicasKeys,
// but with two replicas (A, B) running before Redis restarts empty, their set at a generation
// above a few (any deployment that rotated once). C starts on the wiped store and signs with
// its own key at once. Once every replica has refreshed a few times, in either of two orders
// independent timers give (C's second refresh early, or late), every replica still publishes
// C's key (its tokens are valid) and A's.
// Guards against: wentback.go writing back an older set without the stored keys it never held,
// pushing out the key of the replica that started on the wiped store.
func TestWipedStoreTwoOldReplicasKeepNewReplicasKey(t *testing.T) {
	for name, order := range map[string]string{"C early": "ACBACABCABC", "C late": "ABACABCABCABC"} {
		t.Run(name, func(t *testing.T) { wipedWithTwoOldReplicas(t, order) })
	}
}

// wipedWithTwoOldReplicas runs the case of TestWipedStoreTwoOldReplicasKeepNewReplicasKey,
// the replicas refreshing in order after the wipe.
func wipedWithTwoOldReplicas(t *testing.T, order string) {
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	cfg := keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true}
	a, b := newManager(t, cfg), newManager(t, cfg)
	refresh(t, a)
	refresh(t, b)
	// One rotation: the set's generation grows past a few.
	for range 2 * 31 * 24 {
		clk.Advance(time.Hour)
		refresh(t, a)
		refresh(t, b)
	}
	gen := mustLoad(t, store).Generation
	aKID := a.Snapshot().Signing.KID

	store.wipe()
	c := newManager(t, cfg)
	refresh(t, c)
	cKID := c.Snapshot().Signing.KID

	replicas := map[rune]*keys.Manager{'A': a, 'B': b, 'C': c}
	for _, r := range order {
		clk.Advance(time.Second)
		refresh(t, replicas[r])
		st := mustLoad(t, store)
		t.Logf("after %c: stored generation %d keys %v", r, st.Generation, snapKIDs(st.Keys))
	}
	t.Logf("generation before the wipe %d; A's key %s, C's key %s", gen, aKID, cKID)
	for name, m := range map[string]*keys.Manager{"A": a, "B": b, "C": c} {
		pub := snapKIDs(m.Snapshot().Published)
		if !slices.Contains(pub, cKID) {
			t.Errorf("replica %s does not publish %s, the key C signed still-valid tokens with (publishes %v)", name, cKID, pub)
		}
		if !slices.Contains(pub, aKID) {
			t.Errorf("replica %s does not publish %s, the key A signed still-valid tokens with (publishes %v)", name, aKID, pub)
		}
	}
	stored, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := snapKIDs(stored.Keys); !slices.Contains(got, cKID) {
		t.Errorf("stored keys %v lack %s", got, cKID)
	}
}
