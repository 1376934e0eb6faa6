package keys

import (
	"context"
	"log/slog"
	"slices"
	"testing"
)

// TestWriteBackLeavesOutEveryRevokedKey: a replica writing back over a stored set that revokes a
// key in force here saves the stored set without the keys it brings back, and also without a
// key that this replica revoked and the stored set still holds but that was not counted as
// brought back (expired there). A saved set never holds a key it records as revoked: Validate
// would refuse it, the refresh would fail, and the replica would go on signing with the key the
// stored set revokes.
func TestWriteBackLeavesOutEveryRevokedKey(t *testing.T) {
	ctx := context.Background()
	x, z, w, r := genKey(t), genKey(t), genKey(t), genKey(t)
	store := NewMemory()
	policy := DefaultPolicy()
	policy.Alg = ES256
	m, err := NewManager(Config{Backend: store, Policy: policy, WriteBack: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// In force here: z and w, x revoked. In the store, which went back: x still, and z revoked
	// there, r its replacement.
	m.inForce = Set{Generation: 5, Keys: []Key{z, w}, Revoked: []Revocation{{KID: x.KID, At: epoch}}}
	stored := Set{Generation: 1, Keys: []Key{x, r}, Revoked: []Revocation{{KID: z.KID, At: epoch}}}
	if err := store.Save(ctx, stored); err != nil {
		t.Fatal(err)
	}
	got, saved, err := m.writeBackSet(ctx, stored, nil, false)
	if err != nil || !saved {
		t.Fatalf("writeBackSet = saved %v, %v; want the stored set saved without its revoked keys", saved, err)
	}
	kids := func(s Set) []string {
		var out []string
		for _, k := range s.Keys {
			out = append(out, k.KID)
		}
		return out
	}
	for _, s := range []Set{got, mustLoadInternal(t, store)} {
		if ks := kids(s); slices.Contains(ks, x.KID) || slices.Contains(ks, z.KID) || !slices.Contains(ks, r.KID) {
			t.Errorf("saved keys %v; want %s (the replacement) and neither revoked key", ks, r.KID)
		}
		if len(s.Revoked) != 2 {
			t.Errorf("saved revocations %+v; want both", s.Revoked)
		}
	}
}

// mustLoadInternal loads b's set.
func mustLoadInternal(t *testing.T, b Backend) Set {
	t.Helper()
	s, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
