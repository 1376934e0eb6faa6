package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/keys"
)

// A key revocation made by `broker keys revoke` against the key set of a running replica is a
// state change the replica puts in force at its next refresh: it is in the audit trail as
// keys.revoke, naming the revoked key and its replacement.
func TestExternalKeyRevocationRecorded(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t, serverOptions{keyBackend: "file", keyRefresh: 50 * time.Millisecond})
	backend, set := openKeyBackend(t, ts)
	before := 0
	for _, e := range auditEvents(t, ts, "root", 100) {
		if strings.HasPrefix(e.Action, "keys.") {
			before++
		}
	}
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: backend, KID: set.Keys[0].KID, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if snap := ts.srv.keys.Snapshot(); snap != nil && snap.Signing.KID == rev.NewKID {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if snap := ts.srv.keys.Snapshot(); snap == nil || snap.Signing.KID != rev.NewKID {
		t.Fatal("the replica never put the revocation in force")
	}
	// The replica tells the trail once the loaded set is in force, so the event may land just
	// after the new key signs.
	var revoked []audit.Event
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		revoked = revoked[:0]
		for _, e := range auditEvents(t, ts, "root", 100) {
			if e.Action == "keys.revoke" && strings.Contains(e.Detail, rev.KID) && strings.Contains(e.Detail, rev.NewKID) {
				revoked = append(revoked, e)
			}
		}
		if len(revoked) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(revoked) != 1 || revoked[0].Actor != "system:keys" {
		t.Errorf("key %s was revoked and %s signs now on this replica; the trail holds %v, want one keys.revoke event naming both (%d keys.* events before)", rev.KID, rev.NewKID, revoked, before)
	}
}

// openKeyBackend opens the key backend ts's configuration names, as `broker keys` does beside a
// running broker, until the test ends, and returns it with the key set it holds now.
func openKeyBackend(t *testing.T, ts *testServer) (keys.Backend, keys.Set) {
	t.Helper()
	backend, closeBackend, err := OpenKeyBackend(context.Background(), ts.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeBackend() })
	set, err := backend.Load(context.Background())
	if err != nil || len(set.Keys) == 0 {
		t.Fatalf("load: %v (%d keys)", err, len(set.Keys))
	}
	return backend, set
}
