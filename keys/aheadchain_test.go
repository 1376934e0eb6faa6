package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

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

// TestReplicaFarBehindLeavesTheKeySetAlone: a replica whose clock is days behind (a VM restored
// from a snapshot, a bad NTP source) sees every key dated ahead, and cannot tell that from keys
// saved on a clock ahead: it leaves the set alone, so that the replicas whose clocks are right
// go on signing with a key every JWKS serves and keep publishing the one they signed with.
func TestReplicaFarBehindLeavesTheKeySetAlone(t *testing.T) {
	b := keys.NewMemory()
	rightClk, behindClk := fakeclock.New(t0), fakeclock.New(h(-100))
	right := newManager(t, keys.Config{Backend: b, Policy: policy, Now: rightClk.Now, TokenTTL: time.Hour})
	refresh(t, right) // first key, signing from t0
	rightClk.Set(h(48))
	refresh(t, right)
	before := right.Snapshot()
	signed := before.Signing.KID

	behind := newManager(t, keys.Config{Backend: b, Policy: policy, Now: behindClk.Now, TokenTTL: time.Hour})
	refresh(t, behind) // its clock at t0-100h

	rightClk.Set(h(48).Add(30 * time.Second)) // the right replica's next refresh
	refresh(t, right)
	after := right.Snapshot()
	if k := after.Signing; k.KID != signed && !slices.Contains(snapKIDs(before.Published), k.KID) {
		t.Errorf("right replica now signs with %s, which its JWKS never served (published before: %v)", k.KID, snapKIDs(before.Published))
	}
	if !slices.Contains(snapKIDs(after.Published), signed) {
		t.Errorf("right replica dropped %s from its JWKS, the key it signed with 30s earlier (tokens live 1h)", signed)
	}
}
