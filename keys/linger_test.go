package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// lingerReplica is one simulated replica: a Manager with its own clock and refresh phase.
type lingerReplica struct {
	name  string
	m     *keys.Manager
	clock func() time.Time
	phase time.Duration // refreshes at t0+phase+k*interval (real time)
}

// runLingering steps real time from t0 by tick over total, refreshing each replica on its own phase,
// and checks that every key a replica's snapshot signs with at real instant t (a token minted
// then, iat truncated to the second by the replica's clock, valid ttl) stays in every replica's
// snapshot's published keys until that token expires (real time).
func runLingering(t *testing.T, clk *fakeclock.Clock, reps []*lingerReplica, interval, tick, total, ttl time.Duration) {
	t.Helper()
	lastSign := map[string]time.Time{}  // kid -> latest real expiry of a token it signed
	signer := map[string]string{}       // kid -> replica that signed that token
	firstGone := map[string]time.Time{} // kid -> first real instant some replica's JWKS lacks it after having had it
	goneOn := map[string]string{}
	seen := map[string]map[string]bool{} // replica -> kid -> was published there
	for _, r := range reps {
		seen[r.name] = map[string]bool{}
	}
	for d := time.Duration(0); d <= total; d += tick {
		now := t0.Add(d)
		clk.Set(now)
		for _, r := range reps {
			if d >= r.phase && (d-r.phase)%interval == 0 {
				if _, err := r.m.Refresh(context.Background()); err != nil {
					t.Fatalf("%s refresh at +%v: %v", r.name, d, err)
				}
			}
		}
		for _, r := range reps {
			s := r.m.Snapshot()
			if s == nil {
				continue
			}
			// A token minted now by r: iat is r's clock truncated, exp = iat+ttl, an absolute
			// instant that relying parties (whose clocks are right) compare with real time.
			exp := r.clock().Truncate(time.Second).Add(ttl)
			if exp.After(lastSign[s.Signing.KID]) {
				lastSign[s.Signing.KID], signer[s.Signing.KID] = exp, r.name
			}
			pub := snapKIDs(s.Published)
			for _, kid := range pub {
				seen[r.name][kid] = true
			}
			for kid := range seen[r.name] {
				if !slices.Contains(pub, kid) {
					if _, ok := firstGone[kid]; !ok {
						firstGone[kid], goneOn[kid] = now, r.name
					}
				}
			}
		}
	}
	checked := 0
	for kid, gone := range firstGone {
		exp, ok := lastSign[kid]
		if !ok {
			continue
		}
		checked++
		if gone.Before(exp) {
			t.Errorf("key %s: a token it signed on %s is valid until +%v, but %s's JWKS dropped the key at +%v (%v early)",
				kid, signer[kid], exp.Sub(t0), goneOn[kid], gone.Sub(t0), exp.Sub(gone))
		}
	}
	if checked == 0 {
		t.Fatal("no key was retired and dropped during the run")
	}
}

// TestRetiredKeyOutlivesTokensAcrossReplicas: with retain equal to the tokens' lifetime, a
// replica whose refresh falls just before the successor takes over signs with the old key for
// one more refresh interval; every replica keeps the old key in its JWKS until that token
// expires.
func TestRetiredKeyOutlivesTokensAcrossReplicas(t *testing.T) {
	p := keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 3 * time.Minute, Alg: keys.ES256}
	ttl := p.Retain
	interval := keys.RefreshInterval(p.Prepublish) // 7.5s
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	a := newManager(t, keys.Config{Backend: b, Policy: p, Now: clk.Now, TokenTTL: ttl})
	bb := newManager(t, keys.Config{Backend: b, Policy: p, Now: clk.Now, TokenTTL: ttl})
	runLingering(t, clk, []*lingerReplica{
		{name: "A", m: a, clock: clk.Now, phase: 0},
		{name: "B", m: bb, clock: clk.Now, phase: interval - 500*time.Millisecond},
	}, interval, 500*time.Millisecond, 2*p.Period, ttl)
}

// TestRetiredKeyOutlivesTokensWithSkewedClocks: a replica whose clock is 3s ahead keeps a retired
// key in its JWKS until the last token a replica with the right clock signed with it expires.
func TestRetiredKeyOutlivesTokensWithSkewedClocks(t *testing.T) {
	p := keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 3 * time.Minute, Alg: keys.ES256}
	ttl := p.Retain
	interval := keys.RefreshInterval(p.Prepublish)
	clk := fakeclock.New(t0)
	ahead := func() time.Time { return clk.Now().Add(3 * time.Second) }
	b := keys.NewMemory()
	bb := newManager(t, keys.Config{Backend: b, Policy: p, Now: clk.Now, TokenTTL: ttl})
	a := newManager(t, keys.Config{Backend: b, Policy: p, Now: ahead, TokenTTL: ttl})
	runLingering(t, clk, []*lingerReplica{
		{name: "B", m: bb, clock: clk.Now, phase: 0},
		{name: "A(+3s)", m: a, clock: ahead, phase: interval - 3*time.Second},
	}, interval, 500*time.Millisecond, 2*p.Period, ttl)
}
