package keys_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// revokeSigning revokes the key m signs with, at 1h on store (as `broker keys revoke` does), and
// lets m take the revocation. It returns that key and the stored set from before, for a test to
// put back as a store that lost the revocation would hold it.
func revokeSigning(t *testing.T, clk *fakeclock.Clock, store keys.Backend, m *keys.Manager) (string, keys.Set) {
	t.Helper()
	ctx := context.Background()
	before, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaked := m.Snapshot().Signing.KID
	clk.Set(h(1))
	if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: leaked, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	return leaked, before
}

// putBack makes set, as generation 1, the only content of store: a failover to a replica that
// lost the later saves, or a backup put back.
func putBack(t *testing.T, store *wipeable, set keys.Set) {
	t.Helper()
	store.wipe()
	set.Generation = 1
	if err := store.Save(context.Background(), set); err != nil {
		t.Fatal(err)
	}
}

// revokedStaysOut checks that m neither signs with kid nor publishes it, and that the store
// does not hold it.
func revokedStaysOut(t *testing.T, who string, m *keys.Manager, store keys.Backend, kid string) {
	t.Helper()
	snap := m.Snapshot()
	if snap.Signing.KID == kid || slices.ContainsFunc(snap.Signers, func(k keys.Key) bool { return k.KID == kid }) {
		t.Errorf("%s signs with the revoked key %s", who, kid)
	}
	if slices.Contains(snapKIDs(snap.Published), kid) {
		t.Errorf("%s publishes the revoked key %s: %v", who, kid, snapKIDs(snap.Published))
	}
	stored, err := store.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored.Find(kid); ok {
		t.Errorf("after %s's refresh the store holds the revoked key %s again (generation %d)", who, kid, stored.Generation)
	}
}

// TestRevokedKeyStaysOutWhenTheStoreLosesTheRevocation: the store fails over and loses the
// save of a revocation; another replica, which never took the revocation, then saves a change of
// the old set under the revocation's own generation. A Manager that took the revocation does not
// take that set (its generation is not older than the one in force, but it brings the revoked
// key back): it writes the set in force back, and the other replica takes that.
func TestRevokedKeyStaysOutWhenTheStoreLosesTheRevocation(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	a := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	b := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, a)
	refresh(t, b)
	leaked, before := revokeSigning(t, clk, store, a)
	revokedStaysOut(t, "the replica that took the revocation", a, store, leaked)

	// The failover: the new primary holds the set from before the revocation.
	putBack(t, store, before)
	// b, which still holds the leaked key, starts a rotation: it saves the old set, with the
	// leaked key and a new one, under the generation the revocation had.
	clk.Set(h(2))
	if err := b.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Load(ctx); got.Generation != 2 {
		t.Fatalf("the other replica saved generation %d, want 2 (the revocation's)", got.Generation)
	}

	refresh(t, a)
	revokedStaysOut(t, "the replica that took the revocation", a, store, leaked)
	refresh(t, b)
	revokedStaysOut(t, "the other replica", b, store, leaked)
}

// TestRevokedKeyStaysOutWhenASaveConflicts: a Manager whose save conflicts loads the set saved
// first; when that set brings back a key that left the set in force here (an older replica wrote
// its set back over the one the store lost), it writes the set in force back rather than take it.
func TestRevokedKeyStaysOutWhenASaveConflicts(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	var older keys.Set // the set an older replica writes back first, once armed
	raced := &fakeBackend{
		load: store.Load,
		save: func(ctx context.Context, s keys.Set) error {
			if got, _ := store.Load(ctx); got.Generation == 0 && older.Generation > 0 {
				if err := store.Save(ctx, older); err != nil {
					return err
				}
				return keys.ErrConflict
			}
			return store.Save(ctx, s)
		},
	}
	a := newManager(t, keys.Config{Backend: raced, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, a)
	leaked, before := revokeSigning(t, clk, store, a)

	// The store loses everything; a's write-back conflicts with the older replica's set, saved
	// first under the same generation, which holds the leaked key.
	store.wipe()
	older = before
	if _, err := a.Refresh(ctx); err != nil && !errors.Is(err, keys.ErrConflict) {
		t.Fatalf("Refresh: %v", err)
	}
	revokedStaysOut(t, "the replica that took the revocation", a, store, leaked)
}

// TestWithoutWriteBackABroughtBackKeyIsWrittenOver: without WriteBack too (a key directory), a
// Manager does not take a stored set that brings back a key revoked since it was in force: it
// saves the set in force over it, and a later revocation of another key then takes effect. A
// key that comes back expired is no such key: the set is taken, and the policy drops the key
// again.
func TestWithoutWriteBackABroughtBackKeyIsWrittenOver(t *testing.T) {
	ctx := context.Background()
	t.Run("revoked", func(t *testing.T) {
		clk := fakeclock.New(t0)
		store := &wipeable{Backend: keys.NewMemory()}
		m := newManager(t, keys.Config{Backend: store, Policy: twoChains, Now: clk.Now})
		refresh(t, m)
		leaked, before := revokeSigning(t, clk, store, m)
		putBack(t, store, before) // a backup from before the revocation put back
		refresh(t, m)
		revokedStaysOut(t, "the replica", m, store, leaked)

		// A later revocation, of the RS256 key, takes effect on the set written back.
		rs, _ := m.Snapshot().SigningFor(keys.RS256)
		clk.Set(h(2))
		if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: rs.KID, Now: clk.Now()}); err != nil {
			t.Fatal(err)
		}
		refresh(t, m)
		revokedStaysOut(t, "the replica, after the second revocation", m, store, rs.KID)
		revokedStaysOut(t, "the replica, after the second revocation", m, store, leaked)
	})
	t.Run("expired", func(t *testing.T) {
		clk := fakeclock.New(t0)
		store := &wipeable{Backend: keys.NewMemory()}
		m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now})
		refresh(t, m)
		first := m.Snapshot().Signing.KID
		clk.Set(h(700)) // the next key is made, the first retires at 720h
		refresh(t, m)
		old, _ := store.Load(ctx)
		for _, at := range []float64{721, 800} {
			clk.Set(h(at))
			refresh(t, m)
		}
		if slices.Contains(snapKIDs(m.Snapshot().Published), first) {
			t.Fatalf("the first key %s is still published at 800h", first)
		}
		store.wipe()
		old.Generation = 1 // the first save of an empty store
		if err := store.Save(ctx, old); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Refresh(ctx); err != nil {
			t.Fatalf("Refresh over a set holding only an expired key that left: %v", err)
		}
		if slices.Contains(snapKIDs(m.Snapshot().Published), first) {
			t.Errorf("the expired key %s is published again", first)
		}
	})
}

// countingSaves is a Backend that counts its saves, and fails them with fail when set.
type countingSaves struct {
	*wipeable
	saves int
	fail  error
}

func (c *countingSaves) Save(ctx context.Context, s keys.Set) error {
	c.saves++
	if c.fail != nil {
		return c.fail
	}
	return c.wipeable.Save(ctx, s)
}

// TestWriteBackOverAMuchOlderSetSavesOnce: a store that went back many generations (wiped, with
// generation 20 in force) gets the set in force back in one save, and the refresh goes on.
func TestWriteBackOverAMuchOlderSetSavesOnce(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &countingSaves{wipeable: &wipeable{Backend: keys.NewMemory()}}
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, m)
	set, _ := store.Load(ctx)
	for set.Generation < 20 {
		set.Generation++
		if err := store.Save(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	refresh(t, m)
	signing := m.Snapshot().Signing.KID
	store.wipe()
	store.saves = 0
	if _, err := m.Refresh(ctx); err != nil {
		t.Fatalf("Refresh over a wiped store: %v", err)
	}
	stored, _ := store.Load(ctx)
	if store.saves != 1 || stored.Generation != 1 || m.Snapshot().Signing.KID != signing {
		t.Errorf("%d saves, stored generation %d, signing %s; want one save of generation 1 and %s signing", store.saves, stored.Generation, m.Snapshot().Signing.KID, signing)
	}
}
