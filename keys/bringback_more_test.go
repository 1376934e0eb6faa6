package keys_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// TestRotateWritesOverASetThatBringsBackARevokedKey: Rotate loads through the bring-back check
// too: with or without WriteBack it writes the set in force over a stored set that brings a
// revoked key back, and rotates that; the revoked key neither signs, nor is published, nor stays
// in the store.
func TestRotateWritesOverASetThatBringsBackARevokedKey(t *testing.T) {
	ctx := context.Background()
	for _, writeBack := range []bool{false, true} {
		clk := fakeclock.New(t0)
		store := &wipeable{Backend: keys.NewMemory()}
		m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: writeBack})
		refresh(t, m)
		leaked, before := revokeSigning(t, clk, store, m)
		putBack(t, store, before)
		clk.Set(h(2))
		if err := m.Rotate(ctx); err != nil {
			t.Errorf("WriteBack %v: Rotate over a set bringing back the revoked key = %v", writeBack, err)
		}
		snap := m.Snapshot()
		if snap.Signing.KID == leaked || slices.Contains(snapKIDs(snap.Published), leaked) {
			t.Errorf("WriteBack %v: after Rotate, signing %s, publishing %v: the revoked key %s is back",
				writeBack, snap.Signing.KID, snapKIDs(snap.Published), leaked)
		}
		revokedStaysOut(t, "the rotating replica", m, store, leaked)
	}
}

// TestRefreshConflictLoadsThroughTheCheck: a refresh that decides a change (a rotation) and
// loses its save to another replica loads that replica's set through the bring-back check: a set
// saved first that brings back a key revoked since is written over, and the revoked key neither
// signs nor is published.
func TestRefreshConflictLoadsThroughTheCheck(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	var older keys.Set // once armed, saved first by "another replica" when this one saves
	raced := &fakeBackend{
		load: store.Load,
		save: func(ctx context.Context, s keys.Set) error {
			if older.Generation > 0 {
				o := older
				older = keys.Set{}
				o.Generation = s.Generation
				if err := store.Save(ctx, o); err != nil {
					return err
				}
				return keys.ErrConflict
			}
			return store.Save(ctx, s)
		},
	}
	m := newManager(t, keys.Config{Backend: raced, Policy: policy, Now: clk.Now})
	refresh(t, m)
	leaked, before := revokeSigning(t, clk, store, m)
	older = before
	clk.Set(h(700)) // the next key is due to be made: the refresh saves, and loses
	if _, err := m.Refresh(ctx); err != nil {
		t.Errorf("Refresh whose save lost to a set bringing back the revoked key = %v", err)
	}
	snap := m.Snapshot()
	if snap.Signing.KID == leaked || slices.Contains(snapKIDs(snap.Published), leaked) {
		t.Errorf("signing %s, publishing %v: the revoked key %s is back", snap.Signing.KID, snapKIDs(snap.Published), leaked)
	}
}

// TestAKeyThisReplicaDroppedIsNotTakenBack: a key this Manager dropped itself (expired under its
// successor) left the set in force here; a stale stored set holding it without the successor
// (so not expired there) is written over, and the old key does not sign again.
func TestAKeyThisReplicaDroppedIsNotTakenBack(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now})
	refresh(t, m)
	stale, _ := store.Load(ctx) // the first key alone, no successor
	first := m.Snapshot().Signing.KID
	for _, at := range []float64{700, 721, 800} {
		clk.Set(h(at))
		refresh(t, m)
	}
	if got, _ := store.Load(ctx); slices.ContainsFunc(got.Keys, func(k keys.Key) bool { return k.KID == first }) {
		t.Fatalf("at 800h the store still holds the first key %s", first)
	}
	store.wipe()
	stale.Generation = 1
	if err := store.Save(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Refresh(ctx); err != nil {
		t.Errorf("Refresh over a stale set holding the key dropped here = %v", err)
	}
	if got := m.Snapshot().Signing.KID; got == first {
		t.Errorf("the key %s this replica dropped signs again", first)
	}
}

var errSave = errors.New("the store refuses writes")

// TestWriteBackFailureIsReturned: when the write-back's save fails (not a conflict), load stops
// at once and Refresh returns that failure, after one save; the set in force stays.
func TestWriteBackFailureIsReturned(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &countingSaves{wipeable: &wipeable{Backend: keys.NewMemory()}}
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, m)
	signing := m.Snapshot().Signing.KID
	store.wipe()
	store.saves, store.fail = 0, errSave
	_, err := m.Refresh(ctx)
	if !errors.Is(err, errSave) || store.saves != 1 {
		t.Errorf("Refresh whose write-back fails = %v after %d saves; want the save's error after one", err, store.saves)
	}
	if got := m.Snapshot().Signing.KID; got != signing {
		t.Errorf("signing %s after a failed write-back, want %s (the set in force)", got, signing)
	}
}

// TestAnotherChainsKeyMadeToSignAtOnceSignsWithinTheSkew: a key made to sign at its creation (a
// chain's first key in a fresh set, or a revocation's replacement) by a replica whose clock is a
// little ahead (within MaxClockSkew) is due at once: it is among Snapshot.Signers although its
// Activates is a few seconds after this replica's now.
func TestAnotherChainsKeyMadeToSignAtOnceSignsWithinTheSkew(t *testing.T) {
	ctx := context.Background()
	now := h(100)
	e := keystest.NewKey(t, keys.ES256, t0)
	r := keystest.NewKey(t, keys.RS256, now.Add(30*time.Second)) // immediate: Activates == Created
	if !r.Activates.Equal(r.Created) {
		t.Fatalf("keystest.NewKey made a key activating at %s, created %s", r.Activates, r.Created)
	}
	b := keys.NewMemory()
	if err := b.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{e, r}}); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, keys.Config{Backend: b, Policy: twoChains, Now: fakeclock.New(now).Now})
	refresh(t, m)
	if k, ok := m.Snapshot().SigningFor(keys.RS256); !ok || k.KID != r.KID {
		t.Errorf("SigningFor(RS256) = %q, %v; want %s, made to sign at once 30s ahead of this clock", k.KID, ok, r.KID)
	}
}

// TestKeyRevokedWhileNoReplicaRanStaysOut: a key revoked while no replica ran left the set the
// audit trail last recorded (Config.Recorded); the replica started next, which compares its
// first load with that record, does not take a stored set that brings it back later (the store
// lost the revocation): it writes its own set over it, and the key stays out.
func TestKeyRevokedWhileNoReplicaRanStaysOut(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	var saved []keys.Change
	first := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now,
		OnChange: func(_ context.Context, c keys.Change) { saved = append(saved, c) }})
	refresh(t, first)
	if len(saved) != 1 {
		t.Fatalf("first start saved %d changes, want 1", len(saved))
	}
	recorded := saved[0].InForce
	leaked, before := revokeSigning(t, clk, store, first)
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, Recorded: &recorded})
	refresh(t, m) // its first load: the revocation, compared with the record
	putBack(t, store, before)
	if _, err := m.Refresh(ctx); err != nil {
		t.Errorf("Refresh over a set bringing back the key revoked while no replica ran = %v", err)
	}
	snap := m.Snapshot()
	if snap.Signing.KID == leaked || slices.Contains(snapKIDs(snap.Published), leaked) {
		t.Errorf("signing %s, publishing %v: the revoked key %s is back", snap.Signing.KID, snapKIDs(snap.Published), leaked)
	}
}
