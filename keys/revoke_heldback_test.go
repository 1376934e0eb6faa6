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
	var k2 string
	lastSign := map[string]time.Time{}
	step := keys.RefreshInterval(servers.Prepublish)
	for at := h(100); at.Before(h(200)); at = at.Add(step) {
		clk.Set(at)
		switch {
		case at.Equal(h(100)):
			rotate()
		case at.Equal(h(125)): // k1 signs by the CLI's clock (124h1m): the operator rotates again
			k2 = rotate()
		case at.Equal(h(150)): // k2 (pending on the servers) is found leaked: revoke it
			if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: k2, Now: at}); err != nil {
				t.Fatal(err)
			}
		}
		refresh(t, m)
		signedKeysStayPublished(t, m, keptCheck{at: at, ttl: ttl, revoked: k2, lastSign: lastSign})
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
		signedKeysStayPublished(t, m, keptCheck{at: at, ttl: ttl, revoked: k1, lastSign: lastSign})
	}
}

// keptCheck is one check of signedKeysStayPublished.
type keptCheck struct {
	at  time.Time
	ttl time.Duration
	// revoked names the revoked key (empty before the revocation): it must never sign, and may
	// leave the JWKS.
	revoked string
	// lastSign maps each key to the last time it signed, across checks.
	lastSign map[string]time.Time
}

// signedKeysStayPublished records the key m signs with at c.at, and fails when a key that
// signed a token still valid at c.at is out of m's JWKS, or when the revoked key signs.
func signedKeysStayPublished(t *testing.T, m *keys.Manager, c keptCheck) {
	t.Helper()
	s := m.Snapshot()
	if c.revoked != "" && s.Signing.KID == c.revoked {
		t.Fatalf("the revoked key %s signed at %s", c.revoked, c.at.Sub(t0))
	}
	c.lastSign[s.Signing.KID] = c.at
	pub := snapKIDs(s.Published)
	for kid, signedAt := range c.lastSign {
		if kid != c.revoked && c.at.Before(signedAt.Add(c.ttl)) && !slices.Contains(pub, kid) {
			t.Fatalf("key %s signed a token at %s (valid until %s) but is out of the JWKS at %s (published: %v)",
				kid, signedAt.Sub(t0), signedAt.Add(c.ttl).Sub(t0), c.at.Sub(t0), pub)
		}
	}
}
