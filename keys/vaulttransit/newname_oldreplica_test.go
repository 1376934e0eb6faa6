package vaulttransit_test

import (
	"context"
	"slices"
	"testing"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestOldReplicaDoesNotWriteExportableKeysBack: TestNewKeyNameAfterExportableKeySigns
// with the key set's metadata in Redis (WriteBack, as server.go sets it for vault-transit with
// store.redis) during the rolling restart to the new key name: replica 1, still configured with
// the old Transit key (now exportable), refreshes after replica 2 saved the set without the
// old key's versions. It takes that set, as before: the exportable versions left the set
// (revoked), and come back neither to the stored metadata nor to replica 1's JWKS.
// Guards against: wentback.go lostAll taking a later generation that shares no key for a
// wiped store, and writing the exportable versions back with the union.
func TestOldReplicaDoesNotWriteExportableKeysBack(t *testing.T) {
	ctx := context.Background()
	v, token := startVault(t)
	meta := vaulttransit.NewMemoryMeta()
	old := uniqueKey()
	b1 := newBackend(t, v, token, vaulttransit.Config{Key: old, Alg: keys.ES256, Meta: meta})
	m1 := newManager(t, keys.Config{Backend: b1, Policy: newNamePolicy, WriteBack: true})
	refresh(t, m1)
	oldKIDs := transitKIDs(t, v, old)
	makeExportable(t, v, old)

	name := uniqueKey()
	b2 := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	m2 := newManager(t, keys.Config{Backend: b2, Policy: newNamePolicy, WriteBack: true})
	refresh(t, m2)
	checkSignsWithOnly(t, v, m2.Snapshot(), name, oldKIDs)

	if _, err := m1.Refresh(ctx); err != nil {
		t.Logf("replica 1's refresh: %v", err)
	}
	recs, err := meta.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs.Keys {
		if r.TransitKey == old {
			t.Errorf("replica 1 wrote key %s of the exportable Transit key %s back to the key set (generation %d)", r.KID, old, recs.Generation)
		}
	}
	for _, k := range m1.Snapshot().Published {
		if slices.Contains(oldKIDs, k.KID) {
			t.Errorf("replica 1 still publishes %s, a version of the exportable Transit key", k.KID)
		}
	}
}
