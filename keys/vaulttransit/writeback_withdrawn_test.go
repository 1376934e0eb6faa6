package vaulttransit_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// newNameWriteBack is a key set made with the Transit key old, on one metadata store, and a
// replica with WriteBack (as server.go sets it for vault-transit with store.redis) configured
// with the Transit key name, which took that set: it signs with old's version until its chain
// rotates.
type newNameWriteBack struct {
	v         *vaulttest.Server
	clock     *fakeclock.Clock
	meta      *vaulttransit.MemoryMeta
	old, name string
	m         *keys.Manager
}

func newNewNameWriteBack(t *testing.T) *newNameWriteBack {
	t.Helper()
	v, token := startVault(t)
	s := &newNameWriteBack{v: v, clock: fakeclock.New(time.Now()), meta: vaulttransit.NewMemoryMeta(), old: uniqueKey(), name: uniqueKey()}
	b1 := newBackend(t, v, token, vaulttransit.Config{Key: s.old, Alg: keys.ES256, Meta: s.meta, Now: s.clock.Now})
	refresh(t, newManager(t, keys.Config{Backend: b1, Policy: newNamePolicy, Now: s.clock.Now, WriteBack: true}))
	b2 := newBackend(t, v, token, vaulttransit.Config{Key: s.name, Alg: keys.ES256, Meta: s.meta, Now: s.clock.Now})
	s.m = newManager(t, keys.Config{Backend: b2, Policy: newNamePolicy, Now: s.clock.Now, WriteBack: true})
	refresh(t, s.m)
	return s
}

// exportOld makes old exportable and lets the replica's signer see it, and returns the KID of
// old's one version, which then no longer signs.
func (s *newNameWriteBack) exportOld(t *testing.T) string {
	t.Helper()
	oldKIDs := transitKIDs(t, s.v, s.old)
	if got := s.m.Snapshot().Signing.KID; len(oldKIDs) != 1 || got != oldKIDs[0] {
		t.Fatalf("control: the replica signs with %s, not the old Transit key's version %v", got, oldKIDs)
	}
	makeExportable(t, s.v, s.old)
	s.clock.Advance(vaulttransit.RecheckInterval)
	digest := sha256.Sum256([]byte("header.payload"))
	if _, err := s.m.Snapshot().Signing.Signer.(keys.ContextSigner).SignJWS(context.Background(), digest[:]); !errors.Is(err, vaulttransit.ErrExportable) {
		t.Fatalf("SignJWS with the exportable Transit key: %v, want ErrExportable", err)
	}
	return oldKIDs[0]
}

// publishes reports whether the replica's JWKS holds kid.
func (s *newNameWriteBack) publishes(kid string) bool {
	for _, k := range s.m.Snapshot().Published {
		if k.KID == kid {
			return true
		}
	}
	return false
}

// TestExportableKeyLeftBehindIsRevokedWithWriteBack is TestExportableKeyLeftBehindIsRevoked with
// the key set's metadata in Redis (WriteBack): the old Transit key becomes exportable while a
// replica already configured with the new name still signs with its version, and the next load
// leaves that version out (Withdrawn) at the generation in force. That is the backend's doing,
// not a store that went back: the version leaves the set and the JWKS, and a version of the new
// key signs at once.
// Guards against: wentback.go's lostAll and diverged counting a withdrawn key as one the store
// lost, and writing it back every refresh
func TestExportableKeyLeftBehindIsRevokedWithWriteBack(t *testing.T) {
	s := newNewNameWriteBack(t)
	oldKID := s.exportOld(t)
	for range 3 {
		refresh(t, s.m)
	}
	snap := s.m.Snapshot()
	if snap.Signing.KID == oldKID {
		t.Errorf("after 3 refreshes the replica still signs with %s, the exportable Transit key's version (generation %d); want a version of %s", oldKID, snap.Generation, s.name)
	}
	if s.publishes(oldKID) {
		t.Errorf("the JWKS still publishes %s, a version of the exportable Transit key", oldKID)
	}
	recs, err := s.meta.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs.Keys {
		if r.TransitKey == s.old {
			t.Errorf("stored metadata (generation %d) still holds %s, a version of the exportable Transit key %s", recs.Generation, r.KID, s.old)
		}
	}
}

// TestExportableKeyWithSuccessorIsNotWrittenBack: as TestExportableKeyLeftBehindIsRevokedWithWriteBack,
// but the replica already rotated, so the chain holds a prepublished version of the new Transit
// key beside the old one that still signs: the old version leaves, and the set stays put.
// Guards against: wentback.go:diverged counting a withdrawn key as one the store lost
func TestExportableKeyWithSuccessorIsNotWrittenBack(t *testing.T) {
	ctx := context.Background()
	s := newNewNameWriteBack(t)
	if err := s.m.Rotate(ctx); err != nil { // a version of the new key, prepublished
		t.Fatal(err)
	}
	oldKID := s.exportOld(t)
	before, _ := s.meta.Load(ctx)
	for range 3 {
		refresh(t, s.m)
	}
	if s.publishes(oldKID) {
		t.Errorf("the JWKS still publishes %s, a version of the exportable Transit key", oldKID)
	}
	recs, err := s.meta.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if recs.Generation != before.Generation {
		t.Errorf("3 refreshes with nothing to change took the stored generation from %d to %d (written back each time, with %s of the exportable Transit key %s)",
			before.Generation, recs.Generation, oldKID, s.old)
	}
}
