package server

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
)

// TestVaultTransitRotatedAndRevokedFromOutside: with vault-transit and the key set's schedule in
// Redis, the code of `broker keys rotate --config` and `broker keys revoke --config`
// (OpenKeyBackend, StartRotation, RevokeKey) changes a running replica's keys: a rotation is a new
// Transit version the replica publishes and later signs with; a revocation takes the signing
// version out of the JWKS and a new version signs at once. The JWKS stays Transit's public keys.
func TestVaultTransitRotatedAndRevokedFromOutside(t *testing.T) {
	v, root := startTransitVault(t)
	rs := redistest.Start(t)
	ts := startServer(t, serverOptions{
		alg: "ES256", redisURL: rs.URL(), keyBackend: "vault-transit", keysYAML: transitYAML(v.Addr()),
		rotation: &rotationOptions{"1h", "3s", "1h", "1m"}, // refresh interval 250ms
	})
	ctx := context.Background()
	backend, closeBackend, err := OpenKeyBackend(ctx, ts.srv.cfg)
	if err != nil {
		t.Fatalf("OpenKeyBackend: %v", err)
	}
	defer closeBackend()
	first := ts.srv.Keys().Snapshot().Signing.KID

	started, err := keys.StartRotation(ctx, keys.RotationConfig{Backend: backend, Policy: KeyPolicy(ts.srv.cfg), Now: time.Now(), Algs: []string{keys.ES256}})
	if err != nil || len(started) != 1 {
		t.Fatalf("StartRotation = %+v, %v", started, err)
	}
	next := started[0].KID
	waitUntil(t, 10*time.Second, func() bool { _, ok := fetchJWKS(t, ts)[next]; return ok })
	checkJWKSIsTransit(t, ts, root)
	waitUntil(t, 20*time.Second, func() bool { return ts.srv.Keys().Snapshot().Signing.KID == next })
	if _, ok := transitPublicKeys(t, root, transitKey)[next]; !ok {
		t.Fatalf("rotated key %s is not a version of Transit key %s", next, transitKey)
	}

	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: backend, KID: next, Now: time.Now()})
	if err != nil {
		t.Fatalf("RevokeKey: %v", err)
	}
	waitUntil(t, 10*time.Second, func() bool {
		jwks := fetchJWKS(t, ts)
		_, hasOld := jwks[next]
		_, hasNew := jwks[rev.NewKID]
		return !hasOld && hasNew
	})
	jwks := checkJWKSIsTransit(t, ts, root)
	// The first key, which the revoked one succeeded, is retired again at the revocation: a
	// replica holding the revoked key back signed with it until then.
	if _, ok := jwks[first]; !ok || rev.Retired != first {
		t.Fatalf("after revoking the signer %s: retired %q, first key %s published %v", next, rev.Retired, first, ok)
	}
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	tok, code := ts.mint(t, run.RunToken, "aud")
	if code != 200 {
		t.Fatalf("mint after the revocation: %d", code)
	}
	if kid, err := headerKID(tok.Token); err != nil || kid != rev.NewKID {
		t.Fatalf("token signed by %s (%v), want the replacement %s at once", kid, err, rev.NewKID)
	}
	if err := verifyWithKeys(tok.Token, fixedKeys{issuer: ts.URL, keys: jwks, at: time.Now()}); err != nil {
		t.Fatalf("the replacement's token does not verify against the JWKS: %v", err)
	}
}
