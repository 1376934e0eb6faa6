package server

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestRevokeKeyOnRunningReplicas is the emergency rotation end to end: two replicas share a key
// directory; `broker keys revoke` (keys.RevokeKey, the code the command runs) removes the key
// they sign with. Within the refresh interval both replicas stop publishing it and sign with the
// replacement at once (no prepublish wait), tokens of the replacement verify against the served
// JWKS, and a token the revoked key signed no longer does.
func TestRevokeKeyOnRunningReplicas(t *testing.T) {
	dir := t.TempDir()
	rot := &rotationOptions{"1h", "4s", "1h", "1m"} // refresh interval 250ms
	a := startServer(t, serverOptions{keyBackend: "file", keyDir: dir, rotation: rot})
	b := startServer(t, serverOptions{keyBackend: "file", keyDir: dir, rotation: rot})
	// A rotation first, so that the chain holds a retired key the per-replica guard could fall
	// back on while the replacement is new.
	first := a.srv.Keys().Snapshot().Signing.KID
	if _, err := keys.StartRotation(context.Background(), keys.RotationConfig{
		Backend: keys.NewFile(dir), Policy: KeyPolicy(a.srv.cfg), Now: time.Now(),
	}); err != nil {
		t.Fatalf("StartRotation: %v", err)
	}
	for _, ts := range []*testServer{a, b} {
		waitUntil(t, 20*time.Second, func() bool { return ts.srv.Keys().Snapshot().Signing.KID != first })
	}
	leaked := a.srv.Keys().Snapshot().Signing.KID
	run := a.createRun(t, "vpc-prod", "TRACKED")
	before, code := a.mint(t, run.RunToken, "aud")
	if code != 200 {
		t.Fatalf("mint before the revocation: %d", code)
	}

	rev, err := keys.RevokeKey(context.Background(), keys.RevokeConfig{Backend: keys.NewFile(dir), KID: leaked, Now: time.Now()})
	if err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second) // a few refresh intervals, generous for a loaded machine
	for _, ts := range []*testServer{a, b} {
		for {
			jwks := fetchJWKS(t, ts)
			_, hasLeaked := jwks[leaked]
			_, hasNew := jwks[rev.NewKID]
			if !hasLeaked && hasNew {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the JWKS still holds the revoked key (%v) or lacks its replacement (%v)", ts.URL, hasLeaked, !hasNew)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := ts.createRun(t, "vpc-prod", "TRACKED")
		tok, code := ts.mint(t, r.RunToken, "aud")
		if code != 200 {
			t.Fatalf("%s: mint after the revocation: %d", ts.URL, code)
		}
		jwks := fetchJWKS(t, ts)
		if err := verifyWithKeys(tok.Token, fixedKeys{issuer: ts.URL, keys: jwks, at: time.Now()}); err != nil {
			t.Fatalf("%s: a token minted after the revocation does not verify against the JWKS: %v", ts.URL, err)
		}
		if kid, err := headerKID(tok.Token); err != nil || kid != rev.NewKID {
			t.Fatalf("%s: token signed by %s (%v) after the revocation, want the replacement %s at once", ts.URL, kid, err, rev.NewKID)
		}
		if err := verifyWithKeys(before.Token, fixedKeys{issuer: a.URL, keys: jwks, at: time.Now()}); err == nil {
			t.Fatalf("%s: a token of the revoked key still verifies against the served JWKS", ts.URL)
		}
	}
}

// waitUntil polls cond every 50ms until it holds, failing t after limit.
func waitUntil(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
