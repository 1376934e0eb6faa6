package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestRevokingAHeldBackSuccessorKeepsTheKeyThatSigned: servers run prepublish 48h, retain 24h,
// tokens.ttl 24h. An operator rotates twice with `broker keys rotate --dir` (the CLI's default
// policy, prepublish 24h), then revokes the second key, which signs by its metadata but which
// the servers still hold back. They signed with the first rotation's key K1 until the
// revocation; K1 is not compromised, so the tokens it signed keep verifying until they expire:
// it stays in the JWKS for retain after the revocation.
func TestRevokingAHeldBackSuccessorKeepsTheKeyThatSigned(t *testing.T) {
	servers := keys.Policy{Period: 720 * time.Hour, Prepublish: 48 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}
	ttl := 24 * time.Hour
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: servers, Now: clk.Now, TokenTTL: ttl})
	refresh(t, m)
	ctx := context.Background()
	cli := keys.DefaultPolicy()
	rotate := func() string {
		t.Helper()
		st, err := keys.StartRotation(ctx, keys.RotationConfig{Backend: b, Policy: cli, Now: clk.Now()})
		if err != nil || len(st) != 1 {
			t.Fatalf("rotate at %s: %v %v", clk.Now().Sub(t0), st, err)
		}
		return st[0].KID
	}
	var k1, k2 string
	lastSign := map[string]time.Time{}
	step := keys.RefreshInterval(servers.Prepublish)
	for at := h(100); at.Before(h(200)); at = at.Add(step) {
		clk.Set(at)
		switch {
		case at.Equal(h(100)):
			k1 = rotate()
		case at.Equal(h(125)): // k1 signs by the CLI's clock (124h1m): the operator rotates again
			k2 = rotate()
		case at.Equal(h(150)): // k2 (pending on the servers) is found leaked: revoke it
			if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: k2, Now: at}); err != nil {
				t.Fatal(err)
			}
		}
		refresh(t, m)
		s := m.Snapshot()
		lastSign[s.Signing.KID] = at
		pub := snapKIDs(s.Published)
		for kid, signedAt := range lastSign {
			if kid == k2 {
				continue
			}
			if at.Before(signedAt.Add(ttl)) && !slices.Contains(pub, kid) {
				t.Fatalf("key %s (k1=%v) signed a token at %s (valid until %s) but is out of the JWKS at %s",
					kid, kid == k1, signedAt.Sub(t0), signedAt.Add(ttl).Sub(t0), at.Sub(t0))
			}
		}
	}
}

// TestRevokingAHeldBackKeyKeepsTheKeyThatSigned: the same with one rotation, retain 24h and
// tokens.ttl 1h: the new key K1 signs by its metadata at 124h1m, on the servers only at 148h1m,
// and is revoked at 148h while they still hold it back. The old key K0, which signed until
// 148h, stays in the JWKS until the last of its tokens has expired.
func TestRevokingAHeldBackKeyKeepsTheKeyThatSigned(t *testing.T) {
	servers := keys.Policy{Period: 720 * time.Hour, Prepublish: 48 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}
	ttl := time.Hour
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: servers, Now: clk.Now, TokenTTL: ttl})
	refresh(t, m)
	ctx := context.Background()
	var k1 string
	lastSign := map[string]time.Time{}
	step := keys.RefreshInterval(servers.Prepublish)
	for at := h(100); at.Before(h(160)); at = at.Add(step) {
		clk.Set(at)
		switch {
		case at.Equal(h(100)):
			st, err := keys.StartRotation(ctx, keys.RotationConfig{Backend: b, Policy: keys.DefaultPolicy(), Now: at})
			if err != nil {
				t.Fatal(err)
			}
			k1 = st[0].KID
		case at.Equal(h(148)):
			if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: k1, Now: at}); err != nil {
				t.Fatal(err)
			}
		}
		refresh(t, m)
		s := m.Snapshot()
		lastSign[s.Signing.KID] = at
		pub := snapKIDs(s.Published)
		for kid, signedAt := range lastSign {
			if kid == k1 {
				t.Fatalf("revoked-to-be key signed at %s", at.Sub(t0))
			}
			if at.Before(signedAt.Add(ttl)) && !slices.Contains(pub, kid) {
				t.Fatalf("key %s signed a token at %s (valid until %s) but is out of the JWKS at %s (published: %v)",
					kid, signedAt.Sub(t0), signedAt.Add(ttl).Sub(t0), at.Sub(t0), pub)
			}
		}
	}
}
