package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// restoredCatchUp is a store restored from a backup of generation 1 {K1} while replica a holds
// generation 2 {K1 retired, K2 signing since ~h(724)}, and replica c, restarted on it at h(730),
// has saved generation 2 {K1, K3}, the generation a holds.
type restoredCatchUp struct {
	clk    *fakeclock.Clock
	store  *wipeable
	a, c   *keys.Manager
	k1, k2 string
	loaded []keys.Loaded // told to a's OnLoad
}

// newRestoredCatchUp sets the scene up; a has WriteBack as writeBack says, c always.
func newRestoredCatchUp(t *testing.T, writeBack bool) *restoredCatchUp {
	t.Helper()
	r := &restoredCatchUp{clk: fakeclock.New(t0), store: &wipeable{Backend: keys.NewMemory()}}
	r.a = newManager(t, keys.Config{Backend: r.store, Policy: policy, Now: r.clk.Now, WriteBack: writeBack,
		OnLoad: func(_ context.Context, l keys.Loaded) { r.loaded = append(r.loaded, l) }})
	refresh(t, r.a)
	backup := mustLoad(t, r.store) // generation 1 {K1}
	r.k1 = r.a.Snapshot().Signing.KID

	r.clk.Set(h(700))
	refresh(t, r.a) // rotation: K2 signs from ~h(724)
	r.clk.Set(h(730))
	refresh(t, r.a)
	r.k2 = r.a.Snapshot().Signing.KID
	if r.k2 == r.k1 || r.a.Snapshot().Generation != 2 {
		t.Fatalf("setup: signing %s (K1 %s), generation %d", r.k2, r.k1, r.a.Snapshot().Generation)
	}

	putBack(t, r.store, backup) // restored from the old backup: generation 1 {K1}
	r.c = newManager(t, keys.Config{Backend: r.store, Policy: policy, Now: r.clk.Now, WriteBack: true})
	refresh(t, r.c) // c decides the rotation due on K1: generation 2 {K1, K3}
	if g := mustLoad(t, r.store).Generation; g != 2 {
		t.Fatalf("setup: the store holds generation %d after c's rotation, want 2", g)
	}
	r.clk.Set(h(731))
	return r
}

// TestARestoredStoreCaughtUpByAnotherReplicaKeepsTheSigningKey: with WriteBack, a stored set that
// leaves out a live key in force here that nothing took out (not expired, dropped by the
// schedule or revoked) went back, whatever its generation: a store restored from a backup, on
// which another replica saved up to the generation in force here. The replica saves the union
// of both sets over it rather than take it: the key it signs with stays in its JWKS and in the
// store, the retired key does not sign again, OnLoad is told of the other replica's key, and the
// other replica takes the union, after which the replicas agree and save no more.
// Guards against: wentback.go:load taking a stored set of the generation in force that shares a
// key with it, dropping the key the replica signed with and signing with the retired one again.
func TestARestoredStoreCaughtUpByAnotherReplicaKeepsTheSigningKey(t *testing.T) {
	r := newRestoredCatchUp(t, true)
	k3 := r.c.Snapshot().Published[len(r.c.Snapshot().Published)-1].KID
	refresh(t, r.a)
	snap := r.a.Snapshot()
	stored := mustLoad(t, r.store)
	if !slices.Contains(snapKIDs(snap.Published), r.k2) {
		t.Errorf("replica a no longer publishes K2 %s, which it signed with since h(724): published %v (generation %d)", r.k2, snapKIDs(snap.Published), snap.Generation)
	}
	if _, ok := stored.Find(r.k2); !ok {
		t.Errorf("the store no longer holds K2 %s: %v", r.k2, snapKIDs(stored.Keys))
	}
	if snap.Signing.KID == r.k1 {
		t.Errorf("replica a signs again with the retired K1 %s", r.k1)
	}
	if _, ok := stored.Find(k3); !ok || !slices.Contains(snapKIDs(snap.Published), k3) {
		t.Errorf("K3 %s, saved by c, left the store %v or is not published by a %v", k3, snapKIDs(stored.Keys), snapKIDs(snap.Published))
	}
	if !slices.ContainsFunc(r.loaded, func(l keys.Loaded) bool {
		return slices.ContainsFunc(l.Published, func(m keys.Meta) bool { return m.KID == k3 })
	}) {
		t.Errorf("OnLoad was not told of K3 %s: %+v", k3, r.loaded)
	}

	refresh(t, r.c)
	if pub := snapKIDs(r.c.Snapshot().Published); !slices.Contains(pub, r.k2) {
		t.Errorf("replica c did not take the union: it publishes %v, without K2 %s", pub, r.k2)
	}
	settled := mustLoad(t, r.store).Generation
	for range 3 {
		r.clk.Set(r.clk.Now().Add(time.Minute))
		refresh(t, r.a)
		refresh(t, r.c)
	}
	if g := mustLoad(t, r.store).Generation; g != settled {
		t.Errorf("the replicas went on saving (generation %d, then %d): they write keys back and forth", settled, g)
	}
	if a, c := snapKIDs(r.a.Snapshot().Published), snapKIDs(r.c.Snapshot().Published); !slices.Equal(a, c) {
		t.Errorf("the replicas disagree: a publishes %v, c %v", a, c)
	}
}

// TestASetOfTheSameGenerationWithOtherKeysIsToldToOnLoad: without WriteBack a stored set of the
// generation in force that holds other keys is taken, and OnLoad is told of the change like one
// of another generation: the keys it drops and publishes reach the audit trail.
// Guards against: loaded.go:noteLoaded telling OnLoad only of a set of another generation.
func TestASetOfTheSameGenerationWithOtherKeysIsToldToOnLoad(t *testing.T) {
	r := newRestoredCatchUp(t, false)
	refresh(t, r.a)
	if len(r.loaded) != 1 {
		t.Fatalf("OnLoad told %d changes, want the one of generation 2 to 2: %+v", len(r.loaded), r.loaded)
	}
	if l := r.loaded[0]; l.From != 2 || l.Generation != 2 || !slices.Contains(l.Revoked, r.k2) || len(l.Published) != 1 {
		t.Errorf("OnLoad told %+v; want generation 2 after 2, K2 %s gone and c's key published", l, r.k2)
	}
	refresh(t, r.a)
	if len(r.loaded) != 1 {
		t.Errorf("OnLoad told the same set again: %+v", r.loaded[1:])
	}
}

// TestAKeyWrittenBackAndDroppedAgainIsTaken: a replica whose retain is longer than another's
// writes back, once, the key the other dropped as expired under its own policy; the other drops
// it again, and the replica then takes the set without it rather than write it back in turn.
// Guards against: wentback.go:leftOut writing a key back over every set that leaves it out,
// two replicas saving it back and out again without end.
func TestAKeyWrittenBackAndDroppedAgainIsTaken(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	long := policy
	long.Retain = 10 * 24 * time.Hour
	short := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now, WriteBack: true})
	lng := newManager(t, keys.Config{Backend: b, Policy: long, Now: clk.Now, WriteBack: true})
	refresh(t, short)
	refresh(t, lng)
	k1 := short.Snapshot().Signing.KID
	for _, at := range []float64{700, 730, 800} { // K2 made, signing, K1 past the short retain
		clk.Set(h(at))
		refresh(t, short)
		refresh(t, lng)
	}
	if pub := snapKIDs(short.Snapshot().Published); slices.Contains(pub, k1) {
		t.Fatalf("setup: K1 %s still published at h(800) under the short retain: %v", k1, pub)
	}
	for range 2 { // the long-retain replica writes K1 back once, the other drops it again
		clk.Set(clk.Now().Add(time.Minute))
		refresh(t, short)
		refresh(t, lng)
	}
	settled := mustLoad(t, b).Generation
	for range 3 {
		clk.Set(clk.Now().Add(time.Minute))
		refresh(t, short)
		refresh(t, lng)
	}
	if g := mustLoad(t, b).Generation; g != settled {
		t.Errorf("the replicas went on saving (generation %d, then %d)", settled, g)
	}
	if _, ok := mustLoad(t, b).Find(k1); ok {
		t.Errorf("the store holds K1 %s again", k1)
	}
}

// withdrawing is a Backend that withdraws one key as it loads the set (see Set.Withdrawn), as
// vault-transit does with a key of a Transit key that became exportable.
type withdrawing struct {
	keys.Backend
	kid string
}

func (w *withdrawing) Load(ctx context.Context) (keys.Set, error) {
	set, err := w.Backend.Load(ctx)
	if i := slices.IndexFunc(set.Keys, func(k keys.Key) bool { return k.KID == w.kid }); err == nil && i >= 0 {
		set.Withdrawn = append(set.Withdrawn, set.Keys[i].Meta)
		set.Keys = slices.Delete(slices.Clone(set.Keys), i, i+1)
	}
	return set, err
}

// TestAKeyTheBackendWithdrawsIsNotWrittenBack: with WriteBack, a key in force that the backend
// withdraws as it loads the set is taken out, not written back as a key the store lost: the
// replica neither signs with it nor publishes it, and the set it saves records the key as
// revoked, so that a replica whose backend still holds the key (configured before the
// withdrawal) takes it out too rather than write it back.
// Guards against: wentback.go:leftOut counting a withdrawn key as left out by a store that went
// back, the write-back putting it in force again here and on the replicas configured before.
func TestAKeyTheBackendWithdrawsIsNotWrittenBack(t *testing.T) {
	clk := fakeclock.New(t0)
	mem := keys.NewMemory()
	b := &withdrawing{Backend: mem}
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, m)
	before := newManager(t, keys.Config{Backend: mem, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, before)
	b.kid = m.Snapshot().Signing.KID
	clk.Set(h(1))
	refresh(t, m)
	refresh(t, before)
	for name, r := range map[string]*keys.Manager{"the replica": m, "the replica configured before": before} {
		snap := r.Snapshot()
		if snap.Signing.KID == b.kid || slices.Contains(snapKIDs(snap.Published), b.kid) {
			t.Errorf("%s signs with %s or publishes %v, holding the withdrawn key %s", name, snap.Signing.KID, snapKIDs(snap.Published), b.kid)
		}
	}
	if stored := mustLoad(t, mem); slices.ContainsFunc(stored.Keys, func(k keys.Key) bool { return k.KID == b.kid }) {
		t.Errorf("the store holds the withdrawn key %s again: %v", b.kid, snapKIDs(stored.Keys))
	}
}
