package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestWipedStoreKeepsEveryReplicasKeys: two replicas share a store that can lose its data
// (WriteBack, as with Redis). Replica A runs, publishing and signing with its key; the store
// restarts empty and, before A's next refresh, replica C starts on it as on a first start and
// saves a set of its own. Once each has refreshed, both publish A's key and C's, and the store
// holds both: A's tokens, and any C signed, still verify. (C cannot tell the wiped store from a
// first start, so it signs with its own key at once, as a first start does.)
// Guards against: wentback.go load taking a stored set of the same generation that shares no
// key with the set in force, dropping the keys A signed with.
func TestWipedStoreKeepsEveryReplicasKeys(t *testing.T) {
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	a := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, a)
	clk.Advance(time.Hour)
	refresh(t, a)
	aKID := a.Snapshot().Signing.KID

	store.wipe()
	c := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, c)
	cKID := c.Snapshot().Signing.KID

	clk.Advance(time.Second)
	refresh(t, a)
	refresh(t, c)
	for name, m := range map[string]*keys.Manager{"A": a, "C": c} {
		pub := snapKIDs(m.Snapshot().Published)
		for _, kid := range []string{aKID, cKID} {
			if !slices.Contains(pub, kid) {
				t.Errorf("replica %s does not publish %s, a key that signed still-valid tokens (publishes %v)", name, kid, pub)
			}
		}
	}
	stored, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := snapKIDs(stored.Keys); !slices.Contains(got, aKID) || !slices.Contains(got, cKID) {
		t.Errorf("stored keys %v, want %s and %s", got, aKID, cKID)
	}
	if as, cs := a.Snapshot().Signing.KID, c.Snapshot().Signing.KID; as != cs {
		t.Logf("after the write-back A signs with %s and C with %s", as, cs)
	}
}
