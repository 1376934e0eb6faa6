package vaulttransit_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestExportableKeyLeftBehindIsRevokedWithWriteBack is TestExportableKeyLeftBehindIsRevoked with
// the key set's metadata in Redis (WriteBack, as server.go sets it for vault-transit with
// store.redis): the old Transit key becomes exportable while a replica already configured with
// the new name still signs with its version, and the next load leaves that version out
// (Withdrawn) at the generation in force. That is the backend's doing, not a store that went
// back: the version leaves the set and the JWKS, and a version of the new key signs at once.
// Guards against: wentback.go's lostAll and diverged counting a withdrawn key as one the store
// lost, and writing it back every refresh
func TestExportableKeyLeftBehindIsRevokedWithWriteBack(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	clock := fakeclock.New(time.Now())
	meta := vaulttransit.NewMemoryMeta()
	old := uniqueKey()
	b1 := newBackend(t, v, token, vaulttransit.Config{Key: old, Alg: keys.ES256, Meta: meta, Now: clock.Now})
	refresh(t, newManager(t, keys.Config{Backend: b1, Policy: newNamePolicy, Now: clock.Now, WriteBack: true}))

	name := uniqueKey()
	b2 := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta, Now: clock.Now})
	m2 := newManager(t, keys.Config{Backend: b2, Policy: newNamePolicy, Now: clock.Now, WriteBack: true})
	refresh(t, m2)
	oldKIDs := transitKIDs(t, v, old)
	if got := m2.Snapshot().Signing.KID; len(oldKIDs) != 1 || got != oldKIDs[0] {
		t.Fatalf("control: the replica signs with %s, not the old Transit key's version %v", got, oldKIDs)
	}
	makeExportable(t, v, old)
	clock.Advance(vaulttransit.RecheckInterval)
	digest := sha256.Sum256([]byte("header.payload"))
	if _, err := m2.Snapshot().Signing.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:]); !errors.Is(err, vaulttransit.ErrExportable) {
		t.Fatalf("SignJWS with the exportable Transit key: %v, want ErrExportable", err)
	}
	for i := 0; i < 3; i++ {
		refresh(t, m2)
	}
	snap := m2.Snapshot()
	if snap.Signing.KID == oldKIDs[0] {
		t.Errorf("after 3 refreshes the replica still signs with %s, the exportable Transit key's version (generation %d); want a version of %s", oldKIDs[0], snap.Generation, name)
	}
	for _, k := range snap.Published {
		if k.KID == oldKIDs[0] {
			t.Errorf("the JWKS still publishes %s, a version of the exportable Transit key", k.KID)
		}
	}
	recs, err := meta.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs.Keys {
		if r.TransitKey == old {
			t.Errorf("stored metadata (generation %d) still holds %s, a version of the exportable Transit key %s", recs.Generation, r.KID, old)
		}
	}
	t.Logf("stored generation after 3 refreshes: %d", recs.Generation)
}

// TestExportableKeyWithSuccessorIsNotWrittenBack: as TestExportableKeyLeftBehindIsRevokedWithWriteBack,
// but the replica already rotated, so the chain holds a prepublished version of the new Transit
// key beside the old one that still signs: the old version leaves, and the set stays put.
// Guards against: wentback.go:diverged counting a withdrawn key as one the store lost
func TestExportableKeyWithSuccessorIsNotWrittenBack(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	clock := fakeclock.New(time.Now())
	meta := vaulttransit.NewMemoryMeta()
	old := uniqueKey()
	b1 := newBackend(t, v, token, vaulttransit.Config{Key: old, Alg: keys.ES256, Meta: meta, Now: clock.Now})
	refresh(t, newManager(t, keys.Config{Backend: b1, Policy: newNamePolicy, Now: clock.Now, WriteBack: true}))

	name := uniqueKey()
	b2 := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta, Now: clock.Now})
	m2 := newManager(t, keys.Config{Backend: b2, Policy: newNamePolicy, Now: clock.Now, WriteBack: true})
	refresh(t, m2)
	if err := m2.Rotate(ctx); err != nil { // a version of the new key, prepublished
		t.Fatal(err)
	}
	oldKIDs := transitKIDs(t, v, old)
	if got := m2.Snapshot().Signing.KID; len(oldKIDs) != 1 || got != oldKIDs[0] {
		t.Fatalf("control: the replica signs with %s, not the old Transit key's version %v", got, oldKIDs)
	}
	makeExportable(t, v, old)
	clock.Advance(vaulttransit.RecheckInterval)
	digest := sha256.Sum256([]byte("header.payload"))
	if _, err := m2.Snapshot().Signing.Signer.(keys.ContextSigner).SignJWS(ctx, digest[:]); !errors.Is(err, vaulttransit.ErrExportable) {
		t.Fatalf("SignJWS with the exportable Transit key: %v, want ErrExportable", err)
	}
	before, _ := meta.Load(ctx)
	for i := 0; i < 3; i++ {
		refresh(t, m2)
	}
	for _, k := range m2.Snapshot().Published {
		if k.KID == oldKIDs[0] {
			t.Errorf("the JWKS still publishes %s, a version of the exportable Transit key", k.KID)
		}
	}
	recs, err := meta.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if recs.Generation != before.Generation {
		t.Errorf("3 refreshes with nothing to change took the stored generation from %d to %d (written back each time, with %s of the exportable Transit key %s)",
			before.Generation, recs.Generation, oldKIDs[0], old)
	}
}
