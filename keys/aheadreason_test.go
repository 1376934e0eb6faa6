package keys_test

import (
	"context"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// An algorithm added to a set whose every key was saved on a clock far ahead (so published, though
// created after now) gets a key published Lead before it signs, not one that signs at once.
func TestDecideNewChainOfASetDatedAhead(t *testing.T) {
	p := policy
	p.Also = []string{keys.RS256}
	set := []keys.Meta{
		meta("b", hours{created: year, activates: 2, retires: 26 + rh}),
		meta("n", hours{created: 2, activates: 26 + rh}),
	}
	got := keys.Decide(h(2), set, p)
	want := keys.Decision{Generate: true, Activates: h(26 + rh)}
	if !sameDecision(got, want) || got.Alg != keys.RS256 {
		t.Errorf("Decide = %+v, want an RS256 key signing from t0+26h+rh", got)
	}
}

// The replica that drops a key saved on a clock far ahead tells OnChange so (not as an expired
// key), and the replica that loads the drop tells OnLoad so (not as a revocation); a revocation of
// such a key, which comes with a replacement signing at once, is told as one.
func TestDropOfAKeyDatedAheadToldAsSuch(t *testing.T) {
	ctx := context.Background()
	b := keys.NewMemory()
	rightClk, aheadClk := fakeclock.New(t0), fakeclock.New(t0)
	var changes []keys.Change
	var loaded []keys.Loaded
	right := newManager(t, keys.Config{Backend: b, Policy: policy, Now: rightClk.Now,
		OnChange: func(_ context.Context, c keys.Change) { changes = append(changes, c) }})
	ahead := newManager(t, keys.Config{Backend: b, Policy: policy, Now: aheadClk.Now,
		OnLoad: func(_ context.Context, l keys.Loaded) { loaded = append(loaded, l) }})
	refresh(t, right)
	refresh(t, ahead)
	changes = nil

	// aheadKey has the ahead replica save a successor on a clock a year ahead and returns its KID.
	aheadKey := func(at float64) string {
		t.Helper()
		aheadClk.Set(h(at))
		refresh(t, ahead)
		set, err := b.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(set.Keys, func(k keys.Key) bool { return k.Created.Equal(h(at)) })
		if i < 0 {
			t.Fatalf("the replica ahead saved no key at t0+%vh: %v", at, metaKIDs(set.Metas()))
		}
		return set.Keys[i].KID
	}

	dated := aheadKey(year)
	rightClk.Set(h(1))
	refresh(t, right)
	aheadClk.Set(h(1))
	refresh(t, ahead)
	if len(changes) != 1 || !slices.Equal(changes[0].DroppedAhead, []string{dated}) || len(changes[0].Dropped) != 0 {
		t.Errorf("OnChange was told %+v, want %s dropped as dated ahead", changes, dated)
	}
	if len(loaded) != 1 || !slices.Equal(loaded[0].DroppedAhead, []string{dated}) || len(loaded[0].Revoked) != 0 {
		t.Errorf("OnLoad was told %+v, want %s dropped as dated ahead", loaded, dated)
	}

	loaded = nil
	leaked := aheadKey(year + 1)
	aheadClk.Set(h(1))
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: leaked, Now: h(1)})
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, ahead)
	if len(loaded) != 1 || !slices.Equal(loaded[0].Revoked, []string{rev.KID}) || len(loaded[0].DroppedAhead) != 0 {
		t.Errorf("after revoking %s, dated ahead, OnLoad was told %+v, want it revoked", leaked, loaded)
	}
}
