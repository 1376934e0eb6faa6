package keys_test

import (
	"context"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// writeBackReplica starts a Manager with WriteBack on a store that can go back, at t0, with its
// first key in force.
func writeBackReplica(t *testing.T) (*fakeclock.Clock, *wipeable, *keys.Manager) {
	t.Helper()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, m)
	return clk, store, m
}

// TestARevocationOnAStoreThatWentBackIsNotWrittenOver: the store fails over and loses saves, and
// an operator revokes a leaked key on the set it went back to before a running replica with
// WriteBack loads it. That set is older than the one in force, but it records the revocation:
// the replica takes it rather than write its own set back, so the leaked key neither signs, nor
// is published, nor comes back into the store, and the revocation's replacement signs.
func TestARevocationOnAStoreThatWentBackIsNotWrittenOver(t *testing.T) {
	ctx := context.Background()
	clk, store, m := writeBackReplica(t)
	old := mustLoad(t, store)
	leaked := m.Snapshot().Signing.KID
	clk.Set(h(700))
	refresh(t, m) // the next key is made
	clk.Set(h(730))
	if err := m.Rotate(ctx); err != nil { // and another: the leaked key, retired, is still published
		t.Fatal(err)
	}
	if snap := m.Snapshot(); snap.Generation < 3 || !slices.Contains(snapKIDs(snap.Published), leaked) {
		t.Fatalf("setup: generation %d in force publishing %v; want at least 3, with %s", snap.Generation, snapKIDs(snap.Published), leaked)
	}

	putBack(t, store, old)
	clk.Set(h(731))
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: leaked, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	revokedStaysOut(t, "the replica with WriteBack", m, store, leaked)
	if got := m.Snapshot().Signing.KID; got != rev.NewKID {
		t.Errorf("the replica signs with %s, want the revocation's replacement %s", got, rev.NewKID)
	}
}

// TestARevocationOfAKeyNotInForceKeepsTheWriteBack: a store that lost saves holds a set
// recording the revocation of a key this replica revoked too, and no longer holds; that set
// goes back on the set in force and revokes nothing in force here, so the replica writes its own
// set back as usual, the revocation recorded in it.
func TestARevocationOfAKeyNotInForceKeepsTheWriteBack(t *testing.T) {
	ctx := context.Background()
	clk, store, m := writeBackReplica(t)
	old := mustLoad(t, store)
	first := m.Snapshot().Signing.KID
	clk.Set(h(1))
	if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: first, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	refresh(t, m) // takes the revocation
	clk.Set(h(700))
	refresh(t, m) // the next key is made: generation 3 in force
	putBack(t, store, old)
	if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: first, Now: h(701)}); err != nil {
		t.Fatal(err)
	}
	clk.Set(h(701))
	refresh(t, m)
	stored := mustLoad(t, store)
	for _, k := range m.Snapshot().Published {
		if _, ok := stored.Find(k.KID); !ok {
			t.Errorf("the replica publishes %s, which the store does not hold (%v): its set was not written back", k.KID, snapKIDs(stored.Keys))
		}
	}
	if len(stored.Revoked) != 1 || stored.Revoked[0].KID != first {
		t.Errorf("the store records revocations %+v; want the one of %s", stored.Revoked, first)
	}
	revokedStaysOut(t, "the replica", m, store, first)
}

// TestARevocationOnAStoreThatWentBackWithAKeyRevokedHere: the set a store went back to holds a
// key this replica revoked since (the store lost that revocation) and records the revocation,
// made on it, of a key in force here. Neither key comes back: the replica saves that set without
// the key it revoked, both revocations recorded, and signs with the replacement made on it.
func TestARevocationOnAStoreThatWentBackWithAKeyRevokedHere(t *testing.T) {
	ctx := context.Background()
	clk, store, m := writeBackReplica(t)
	first := m.Snapshot().Signing.KID
	clk.Set(h(700))
	refresh(t, m) // the next key is made, pending
	old := mustLoad(t, store)
	pending := old.Keys[len(old.Keys)-1].KID
	clk.Set(h(701))
	if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: pending, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	refresh(t, m) // takes that revocation: first, retired, stays published

	putBack(t, store, old)
	clk.Set(h(702))
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: first, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	for _, kid := range []string{first, pending} {
		revokedStaysOut(t, "the replica", m, store, kid)
	}
	if got := m.Snapshot().Signing.KID; got != rev.NewKID {
		t.Errorf("the replica signs with %s, want the replacement %s made on the store", got, rev.NewKID)
	}
	stored := mustLoad(t, store)
	var revoked []string
	for _, r := range stored.Revoked {
		revoked = append(revoked, r.KID)
	}
	if want := []string{pending, first}; !slices.Equal(revoked, want) {
		t.Errorf("the store records revocations of %v; want %v, oldest first", revoked, want)
	}
}

// TestARecordedRevocationKeepsOutAKeyThisReplicaNeverHeld: a replica started after a revocation
// never held the revoked key, but the set it holds records the revocation; when the store goes
// back to a set from before it (a backup put back), the replica does not take the key back,
// with or without WriteBack: it saves its own set over that one.
func TestARecordedRevocationKeepsOutAKeyThisReplicaNeverHeld(t *testing.T) {
	ctx := context.Background()
	for _, writeBack := range []bool{false, true} {
		clk := fakeclock.New(t0)
		store := &wipeable{Backend: keys.NewMemory()}
		first := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now})
		refresh(t, first)
		old := mustLoad(t, store)
		leaked := first.Snapshot().Signing.KID
		clk.Set(h(1))
		if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: leaked, Now: clk.Now()}); err != nil {
			t.Fatal(err)
		}
		later := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: writeBack})
		refresh(t, later)
		putBack(t, store, old)
		clk.Set(h(2))
		refresh(t, later)
		revokedStaysOut(t, "a replica started after the revocation", later, store, leaked)
	}
}
