package vaulttransit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestRetiredVersionTrimmedInVault: an operator prunes old Transit versions (the README's
// min_decryption_version and trim) while the shared key set still lists a retired version in
// its retain window. A replica that starts after that still loads the key set, with the
// signing key and without the retired one, whose public key Vault no longer gives.
func TestRetiredVersionTrimmedInVault(t *testing.T) {
	v, token := startVault(t)
	for _, trim := range []bool{false, true} {
		t.Run(map[bool]string{false: "min_decryption_version-only", true: "trimmed"}[trim], func(t *testing.T) {
			trimCase(t, v, token, trim)
		})
	}
}

func trimCase(t *testing.T, v *vaulttest.Server, token string, trim bool) {
	root := v.Client()
	ctx := context.Background()
	name := uniqueKey()
	meta := vaulttransit.NewMemoryMeta()
	a := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	now := time.Now()
	k1, err := a.Generate(ctx, keys.ES256, now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{k1}}); err != nil {
		t.Fatal(err)
	}
	k2, err := a.Generate(ctx, keys.ES256, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k1.Retires = k2.Activates // k1 retired an hour ago, still published for retain
	if err := a.Save(ctx, keys.Set{Generation: 2, Keys: []keys.Key{k1, k2}}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []map[string]any{
		{"min_decryption_version": 2, "min_encryption_version": 2},
	} {
		if _, err := root.Logical().Write(mount+"/keys/"+name+"/config", body); err != nil {
			t.Fatal(err)
		}
	}
	if trim {
		if _, err := root.Logical().Write(mount+"/keys/"+name+"/trim", map[string]any{"min_available_version": 2}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Meta: meta})
	set, err := b.Load(ctx)
	if err != nil {
		t.Fatalf("a replica starting after the trim cannot load the key set (signing key %s intact in Transit): %v", k2.KID, err)
	}
	if _, ok := set.Find(k2.KID); !ok {
		t.Fatalf("signing key %s missing from the loaded set", k2.KID)
	}
	if _, ok := set.Find(k1.KID); ok {
		t.Errorf("the retired key %s, whose version Vault no longer gives, is in the loaded set", k1.KID)
	}
}
