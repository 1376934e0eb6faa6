package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// revokeSigningKey revokes the key the store's set signs with at now, and returns its KID.
func revokeSigningKey(t *testing.T, store keys.Backend, now time.Time) string {
	t.Helper()
	kid, ok := keys.Signing(now, mustLoad(t, store).Metas(), keys.ES256)
	if !ok {
		t.Fatal("no signing key to revoke")
	}
	cfg := keys.RevokeConfig{Backend: store, KID: kid.KID, Now: now}
	if _, err := keys.RevokeKey(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return kid.KID
}

// A key revoked by another process (`broker keys revoke`) and taken by a running replica never
// comes back on it, even once the set's record of that revocation was trimmed by later ones:
// the replica remembers the keys that left a set it loaded, and when the store goes back to a
// set that holds the key, it writes its own set back instead of signing with the key.
// Guards against: noteLoaded no longer records the keys that left the loaded set (noteDeparted).
func TestRevokedKeyStaysOutAfterItsRecordIsTrimmed(t *testing.T) {
	clk := fakeclock.New(t0)
	store := &wipeable{Backend: keys.NewMemory()}
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now})
	refresh(t, m)
	old := mustLoad(t, store)
	clk.Set(h(1))
	leaked := revokeSigningKey(t, store, clk.Now())
	refresh(t, m) // takes the revocation
	for i := range 16 {
		clk.Set(h(1).Add(time.Duration(i+1) * time.Minute))
		revokeSigningKey(t, store, clk.Now())
	}
	refresh(t, m)
	if set := mustLoad(t, store); len(set.Revoked) != 16 || set.Revoked[0].KID == leaked {
		t.Fatalf("setup: the stored set records %d revocations, the first of %s; want 16, "+
			"without %s", len(set.Revoked), set.Revoked[0].KID, leaked)
	}
	putBack(t, store, old) // the store loses every save since the first key
	clk.Set(h(2))
	refresh(t, m)
	revokedStaysOut(t, "the replica", m, store, leaked)
}
