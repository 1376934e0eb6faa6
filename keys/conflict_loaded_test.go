package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestChangeFoundThroughAConflictIsTold: when this replica's save loses to an operator's
// revocation (it saves a rotation on a set that changed meanwhile), the set it loads after the
// conflict is the one in force, and OnLoad is told of the revocation in that same Refresh, not
// one refresh later.
// Guards against: manager.go:refresh not noting the set loaded after a save conflict.
func TestChangeFoundThroughAConflictIsTold(t *testing.T) {
	clk, mem, first, _ := firstStart(t)
	leaked := first.Snapshot().Signing.KID
	var revoked keys.Revoked
	armed := false
	b := &fakeBackend{load: mem.Load, save: func(ctx context.Context, s keys.Set) error {
		if armed { // the operator's revocation lands between this replica's load and save
			armed = false
			var err error
			if revoked, err = keys.RevokeKey(ctx, keys.RevokeConfig{Backend: mem, KID: leaked, Now: clk.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		return mem.Save(ctx, s)
	}}
	var loaded []keys.Loaded
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now,
		OnLoad: func(_ context.Context, l keys.Loaded) { loaded = append(loaded, l) }})
	refresh(t, m)
	clk.Advance(policy.Period - policy.Prepublish + time.Hour) // a successor is due
	armed = true
	refresh(t, m)
	if armed || revoked.KID != leaked {
		t.Fatalf("no save raced the revocation (armed %v, revoked %+v)", armed, revoked)
	}
	var told []string
	for _, l := range loaded {
		told = append(told, l.Revoked...)
	}
	if !slices.Contains(told, leaked) {
		t.Errorf("OnLoad was told %+v in the refresh whose save lost to the revocation of %s", loaded, leaked)
	}
	if got := m.Snapshot().Signing.KID; got == leaked {
		t.Errorf("the revoked key %s still signs", leaked)
	}
}
