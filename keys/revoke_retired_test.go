package keys_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/keys"
)

// TestRevokeKeyNamesTheKeyItRetires: revoking a pending successor retires the key signing now
// (the replacement signs from now), and RevokeKey names it in Retired, which the CLI reports.
// Revoking the chain's only key retires no other key.
// Guards against: revoke.go:RevokeKey leaving Revoked.Retired empty.
func TestRevokeKeyNamesTheKeyItRetires(t *testing.T) {
	ctx := context.Background()
	clk, b, m, _ := firstStart(t)
	signing := m.Snapshot().Signing.KID
	if err := m.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	set, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pending string
	for _, k := range set.Metas() {
		if k.KID != signing {
			pending = k.KID
		}
	}
	if pending == "" || m.Snapshot().Signing.KID != signing {
		t.Fatalf("no pending successor beside the signing key %s: %+v", signing, set.Metas())
	}
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: pending, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if rev.KID != pending || rev.Retired != signing || rev.NewKID == "" || rev.NewKID == signing {
		t.Errorf("revoking the pending %s beside the signing %s: %+v, want %s retired", pending, signing, rev, signing)
	}

	clk2, b2, m2, _ := firstStart(t)
	only := m2.Snapshot().Signing.KID
	rev, err = keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b2, KID: only, Now: clk2.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if rev.KID != only || rev.Retired != "" {
		t.Errorf("revoking the only key %s: %+v, want none other retired", only, rev)
	}
}
