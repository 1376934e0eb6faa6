package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// TestRevokeKeyRecordsItsRevocation checks RevokeKey's rule that the set it saves records
// the revocation it makes (so no replica holding the key in force saves it back), also when the
// set already keeps the most revocations it may and they are dated later than this one (the
// operator's clock runs behind the one of an earlier revocation).
func TestRevokeKeyRecordsItsRevocation(t *testing.T) {
	b := keys.NewMemory()
	k := keystest.NewKey(t, keys.ES256, t0)
	var earlier []keys.Revocation
	for range 16 {
		old := keystest.NewKey(t, keys.ES256, t0)
		earlier = append(earlier, keys.Revocation{KID: old.KID, At: t0.Add(time.Hour)})
	}
	set := keys.Set{Generation: 1, Keys: []keys.Key{k}, Revoked: earlier}
	if err := b.Save(context.Background(), set); err != nil {
		t.Fatalf("Save: %v", err)
	}
	cfg := keys.RevokeConfig{Backend: b, KID: k.KID, Now: t0.Add(50 * time.Minute)}
	if _, err := keys.RevokeKey(context.Background(), cfg); err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	got := mustLoad(t, b).Revoked
	if !slices.ContainsFunc(got, func(r keys.Revocation) bool { return r.KID == k.KID }) {
		t.Fatalf("after RevokeKey(%s), the saved set records %d revocations, none of it",
			k.KID, len(got))
	}
}
