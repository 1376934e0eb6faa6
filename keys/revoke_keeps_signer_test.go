package keys_test

import (
	"context"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestARevocationOnAStoreThatWentBackKeepsTheUncompromisedSigner: with WriteBack, the store goes
// back to generation 1 {K1}, and an operator revokes the old, retired K1 on it. The revocation
// wins for K1 alone: the replica saves the revoking set with the live keys in force here that it
// does not revoke, so K2, which nobody revoked and which signed this replica's tokens for hours,
// stays published and stored (Revoke keeps the uncompromised key signing now published for
// Retain), while K1 neither signs, nor is published, nor comes back, and the revocation's
// replacement signs.
// Guards against: wentback.go:load taking a set that revokes a key in force as it is, every key
// only the set in force held leaving with the revoked one.
func TestARevocationOnAStoreThatWentBackKeepsTheUncompromisedSigner(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, WriteBack: true})
	refresh(t, m)
	old := mustLoad(t, store)
	k1 := m.Snapshot().Signing.KID
	clk.Set(h(700))
	refresh(t, m) // K2 made, signs from ~h(724)
	clk.Set(h(730))
	refresh(t, m)
	k2 := m.Snapshot().Signing.KID
	if k2 == k1 {
		t.Fatalf("setup: still signing with K1")
	}

	putBack(t, store, old) // the store went back: generation 1 {K1}
	clk.Set(h(731))
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: store, KID: k1, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	revokedStaysOut(t, "the replica", m, store, k1)
	if pub := snapKIDs(m.Snapshot().Published); !slices.Contains(pub, k2) {
		t.Errorf("K2 %s, not revoked and signing here until now, left the JWKS: published %v", k2, pub)
	}
	stored := mustLoad(t, store)
	if k, ok := stored.Find(k2); !ok {
		t.Errorf("K2 %s, not revoked, left the store", k2)
	} else if k.Retires.IsZero() || k.Retires.After(clk.Now()) {
		t.Errorf("K2 %s retires at %v; want it retired by the revocation, at %v", k2, k.Retires, clk.Now())
	}
	if got := m.Snapshot().Signing.KID; got != rev.NewKID {
		t.Errorf("the replica signs with %s, want the revocation's replacement %s", got, rev.NewKID)
	}
	if len(stored.Revoked) != 1 || stored.Revoked[0].KID != k1 {
		t.Errorf("the store records revocations %+v; want the one of K1 %s", stored.Revoked, k1)
	}
}
