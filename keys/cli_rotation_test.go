package keys_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// Servers run prepublish 48h, retain 24h, tokens.ttl 24h; an operator rotates twice with
// `broker keys rotate --dir` (its default, shorter policy). The second rotation drops nothing by
// the CLI's own schedule: a key the servers signed with stays in the JWKS while its tokens are
// valid, and no server records an ordinary expiry as a keys.revoke.
func TestSecondCLIRotationKeepsKeysServersSignedWith(t *testing.T) {
	servers := keys.Policy{Period: 720 * time.Hour, Prepublish: 48 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}
	ttl := 24 * time.Hour
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	var mu sync.Mutex
	var revoked []string
	m := newManager(t, keys.Config{Backend: b, Policy: servers, Now: clk.Now, TokenTTL: ttl,
		OnLoad: func(_ context.Context, l keys.Loaded) {
			mu.Lock()
			revoked = append(revoked, l.Revoked...)
			mu.Unlock()
		}})
	refresh(t, m)
	cli := keys.DefaultPolicy()
	rotate := func() {
		t.Helper()
		if _, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: cli, Now: clk.Now()}); err != nil {
			t.Fatalf("rotate at %s: %v", clk.Now().Sub(t0), err)
		}
	}
	clk.Set(h(100))
	rotate()
	lastSign := map[string]time.Time{}
	step := keys.RefreshInterval(servers.Prepublish)
	for at := h(100); at.Before(h(260)); at = at.Add(step) {
		clk.Set(at)
		if at.Equal(h(150)) {
			rotate() // the first rotation's key signs by the CLI's clock: the operator rotates again
		}
		refresh(t, m)
		s := m.Snapshot()
		lastSign[s.Signing.KID] = at
		pub := snapKIDs(s.Published)
		for kid, signedAt := range lastSign {
			if at.Before(signedAt.Add(ttl)) && !slices.Contains(pub, kid) {
				mu.Lock()
				t.Fatalf("key %s signed a token at %s (valid until %s) but is out of the JWKS at %s (this replica's OnLoad called it revoked: %v)",
					kid, signedAt.Sub(t0), signedAt.Add(ttl).Sub(t0), at.Sub(t0), revoked)
			}
		}
	}
}

// Two replicas whose clocks differ by two seconds: when the one ahead drops a key that expired,
// the other, which loads that set, reports an ordinary drop, not a revocation (Loaded.Revoked,
// audited as keys.revoke), although by its own clock the key has two seconds left.
func TestExpiredDropByReplicaAheadIsNotARevocation(t *testing.T) {
	clk := fakeclock.New(t0)
	ahead := func() time.Time { return clk.Now().Add(2 * time.Second) }
	b := keys.NewMemory()
	var revoked []string
	a := newManager(t, keys.Config{Backend: b, Policy: policy, Now: ahead})
	behind := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now,
		OnLoad: func(_ context.Context, l keys.Loaded) { revoked = append(revoked, l.Revoked...) }})
	refresh(t, a)
	refresh(t, behind)
	first := a.Snapshot().Signing.KID
	// Run through one rotation until the first key has expired and been dropped.
	step := keys.RefreshInterval(policy.Prepublish)
	var dropped bool
	for at := t0; at.Before(t0.Add(policy.Period + policy.Retain + 48*time.Hour)); at = at.Add(step) {
		clk.Set(at)
		set, _ := b.Load(context.Background())
		for _, k := range set.Keys {
			if k.KID == first && !k.Retires.IsZero() {
				// Place the clock one second before it expires (by its Retires; see signsUntil)
				if e := k.Retires.Add(policy.Retain); at.Before(e) && !at.Add(step).Before(e) {
					clk.Set(e.Add(-time.Second))
				}
			}
		}
		refresh(t, a)
		refresh(t, behind)
		if _, ok := func() (keys.Key, bool) { s, _ := b.Load(context.Background()); return s.Find(first) }(); !ok {
			dropped = true
			break
		}
	}
	if !dropped {
		t.Fatal("the first key was never dropped")
	}
	if len(revoked) != 0 {
		t.Errorf("the replica behind recorded %v as revoked; it expired and was dropped by the replica 2s ahead", revoked)
	}
}
