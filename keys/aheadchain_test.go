package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestManagerRedecidesAChainEveryKeyOfWhichIsDatedAhead: a replica whose clock ran a year ahead
// long enough to save a successor and then drop the correctly dated key leaves a chain whose
// every key is dated a year ahead. Once its clock is right again, the replicas sign with that
// key only until a key made then, published for Prepublish on every replica, takes over Lead
// later; the key dated ahead stays published for Retain after it stops signing.
func TestManagerRedecidesAChainEveryKeyOfWhichIsDatedAhead(t *testing.T) {
	ctx := context.Background()
	b := keys.NewMemory()
	rightClk, aheadClk := fakeclock.New(t0), fakeclock.New(t0)
	right := newManager(t, keys.Config{Backend: b, Policy: policy, Now: rightClk.Now, TokenTTL: time.Hour})
	ahead := newManager(t, keys.Config{Backend: b, Policy: policy, Now: aheadClk.Now, TokenTTL: time.Hour})
	refresh(t, right)
	refresh(t, ahead)
	first := right.Snapshot().Signing.KID

	aheadClk.Set(h(year))
	refresh(t, ahead) // a successor dated a year ahead
	aheadClk.Set(h(year + 100))
	refresh(t, ahead) // the first key expired by this clock: dropped
	set, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KID == first {
		t.Fatalf("after the clock ahead, the set is %v, want only the successor dated ahead", metaKIDs(set.Metas()))
	}
	dated := set.Keys[0].KID

	aheadClk.Set(h(2)) // corrected
	rightClk.Set(h(2))
	refresh(t, right)
	refresh(t, ahead)
	for name, m := range map[string]*keys.Manager{"right": right, "ahead": ahead} {
		if got := m.Snapshot().Signing.KID; got != dated {
			t.Errorf("%s: at t0+2h signs with %s, want %s, the only key published so far", name, got, dated)
		}
	}

	// Lead (24h and two refresh intervals) after t0+2h, and an hour more.
	for _, at := range []float64{14, 27} {
		rightClk.Set(h(at))
		aheadClk.Set(h(at))
		refresh(t, right)
		refresh(t, ahead)
	}
	for name, m := range map[string]*keys.Manager{"right": right, "ahead": ahead} {
		snap := m.Snapshot()
		next := snap.Signing
		if next.KID == dated {
			t.Fatalf("%s: at t0+27h the key dated ahead (signs from %s) still signs, want a key made at t0+2h",
				name, next.Activates.Sub(t0))
		}
		if !next.Created.Equal(h(2)) || next.Activates.Sub(next.Created) < policy.Lead() {
			t.Errorf("%s: signing key created %s, signs from %s: want created at t0+2h, signing Lead later",
				name, next.Created.Sub(t0), next.Activates.Sub(t0))
		}
		if !slices.Contains(snapKIDs(snap.Published), dated) {
			t.Errorf("%s: at t0+27h the key dated ahead left the JWKS %v within retain", name, snapKIDs(snap.Published))
		}
	}

	// Past Linger and Retain after the hand-over, the key dated ahead leaves the set.
	rightClk.Set(h(60))
	refresh(t, right)
	if set, err = b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := set.Find(dated); ok {
		t.Errorf("at t0+60h the key dated ahead, which stopped signing at t0+26h, is still in the set %v", metaKIDs(set.Metas()))
	}
}

// TestLoadingADropOfAKeyDatedAheadIsNoRevocation: the replica whose clock was ahead, once
// corrected, loads the set from which a replica with the right clock dropped the successor it
// had saved dated a year ahead: that key never signed, and OnLoad does not call it revoked.
func TestLoadingADropOfAKeyDatedAheadIsNoRevocation(t *testing.T) {
	ctx := context.Background()
	b := keys.NewMemory()
	rightClk, aheadClk := fakeclock.New(t0), fakeclock.New(t0)
	var loaded []keys.Loaded
	right := newManager(t, keys.Config{Backend: b, Policy: policy, Now: rightClk.Now})
	ahead := newManager(t, keys.Config{Backend: b, Policy: policy, Now: aheadClk.Now,
		OnLoad: func(_ context.Context, l keys.Loaded) { loaded = append(loaded, l) }})
	refresh(t, right)
	refresh(t, ahead)

	aheadClk.Set(h(year))
	refresh(t, ahead)
	set, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var dated string
	for _, k := range set.Keys {
		if k.Created.After(h(1)) {
			dated = k.KID
		}
	}
	if dated == "" {
		t.Fatalf("the replica a year ahead saved no key dated ahead: %v", metaKIDs(set.Metas()))
	}
	rightClk.Set(h(1))
	refresh(t, right) // drops it
	aheadClk.Set(h(1))
	refresh(t, ahead) // corrected: loads the drop
	if len(loaded) == 0 {
		t.Fatal("OnLoad was not told of the drop")
	}
	for _, l := range loaded {
		if slices.Contains(l.Revoked, dated) {
			t.Errorf("OnLoad %+v calls %s, saved on a clock a year ahead and dropped unsigned, revoked", l, dated)
		}
	}
}
