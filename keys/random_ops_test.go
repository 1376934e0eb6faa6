package keys_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

type opsObs struct {
	at        time.Time
	replica   int
	signers   []keys.Meta
	published []string
}

// TestRandomRotationsAndRevocations runs several replicas sharing one memory backend with random CLI
// rotations (various prepublish) and revocations, and checks at every refresh:
//
//	A: a non-immediate key signs on a replica only after it was in that replica's JWKS for prepublish;
//	B: a key that signed at t stays published on every replica until t+TTL (unless revoked);
//	C: a revoked key is neither published nor signing on any replica after its next refresh;
//	D: every signer is in the replica's published set.
func TestRandomRotationsAndRevocations(t *testing.T) {
	// Seed 32 once dropped a key an hour early; BROKER_KEYS_SEEDS=1-80 sweeps more (each takes
	// seconds).
	first, last := uint64(32), uint64(32)
	if v := os.Getenv("BROKER_KEYS_SEEDS"); v != "" {
		fmt.Sscanf(v, "%d-%d", &first, &last)
	}
	for seed := first; seed <= last; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomOpsRun(t, seed) })
	}
}

func randomOpsRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	servers := keys.Policy{Period: 6 * time.Hour, Prepublish: time.Hour, Retain: 2 * time.Hour, Alg: keys.ES256}
	ttl := time.Hour
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	const n = 3
	ms := make([]*keys.Manager, n)
	for i := range ms {
		ms[i] = newManager(t, keys.Config{Backend: b, Policy: servers, Now: clk.Now, TokenTTL: ttl})
	}
	ri := keys.RefreshInterval(servers.Prepublish)
	step := ri / 5
	next := make([]time.Time, n)
	for i := range next {
		next[i] = t0.Add(time.Duration(i) * step)
	}
	var obs []opsObs
	revokedAt := map[string]time.Time{}
	lastSigned := map[string]time.Time{}
	ctx := context.Background()
	end := t0.Add(40 * time.Hour)
	hist := map[string][]string{}
	for at := t0; at.Before(end); at = at.Add(step) {
		clk.Set(at)
		if set, err := b.Load(ctx); err == nil {
			for _, k := range set.Keys {
				d := fmt.Sprintf("gen %d created %s activates %s retires %v", set.Generation, k.Created.Sub(t0), k.Activates.Sub(t0), k.Retires.Sub(t0))
				if h := hist[k.KID]; len(h) == 0 || h[len(h)-1][len(h[len(h)-1])-len(d):] != d {
					hist[k.KID] = append(hist[k.KID], at.Sub(t0).String()+": "+d)
				}
			}
		}
		switch x := rng.IntN(400); {
		case x < 4:
			pp := []time.Duration{0, time.Minute, 30 * time.Minute, time.Hour, 24 * time.Hour}[rng.IntN(5)]
			cli := keys.Policy{Period: 720 * time.Hour, Prepublish: pp, Retain: time.Hour, Alg: keys.ES256}
			st, err := keys.StartRotation(ctx, keys.RotationConfig{Backend: b, Policy: cli, Now: at})
			t.Logf("%s CLI rotate prepublish %s: %+v %v", at.Sub(t0), pp, st, err)
			if err != nil && !errors.Is(err, keys.ErrRotationPending) && !errors.Is(err, keys.ErrNoSigningKey) {
				t.Fatalf("rotate: %v", err)
			}
		case x < 6:
			set, _ := b.Load(ctx)
			if len(set.Keys) > 0 {
				kid := set.Keys[rng.IntN(len(set.Keys))].KID
				t.Logf("%s revoke %s", at.Sub(t0), kid)
				if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: kid, Now: at}); err != nil {
					t.Fatalf("revoke: %v", err)
				}
				revokedAt[kid] = at
			}
		}
		for i, m := range ms {
			if at.Before(next[i]) {
				continue
			}
			next[i] = at.Add(ri)
			if _, err := m.Refresh(ctx); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			s := m.Snapshot()
			o := opsObs{at: at, replica: i, published: snapKIDs(s.Published)}
			for _, k := range s.Signers {
				o.signers = append(o.signers, k.Meta)
			}
			o.signers = append(o.signers, s.Signing.Meta)
			obs = append(obs, o)
			for _, k := range o.signers {
				lastSigned[k.KID] = at
				if !slices.Contains(o.published, k.KID) {
					t.Errorf("D: %s replica %d signs with %s, not published %v", at.Sub(t0), i, k.KID, o.published)
				}
				if r, ok := revokedAt[k.KID]; ok {
					t.Errorf("C: %s replica %d signs with %s revoked at %s", at.Sub(t0), i, k.KID, r.Sub(t0))
				}
			}
			for _, kid := range o.published {
				if r, ok := revokedAt[kid]; ok {
					t.Errorf("C: %s replica %d publishes %s revoked at %s", at.Sub(t0), i, kid, r.Sub(t0))
				}
			}
		}
	}
	// A and B.
	for _, o := range obs {
		for _, k := range o.signers {
			immediate := !k.Activates.After(k.Created)
			if !immediate && o.at.Sub(t0) > 2*servers.Prepublish {
				for _, p := range obs {
					if p.at.After(o.at) || p.at.Before(o.at.Add(-servers.Prepublish)) {
						continue
					}
					if !slices.Contains(p.published, k.KID) {
						t.Errorf("A: %s replica %d signs with %s (created %s activates %s) but did not publish it at %s",
							o.at.Sub(t0), o.replica, k.KID, k.Created.Sub(t0), k.Activates.Sub(t0), p.at.Sub(t0))
						break
					}
				}
			}
			for _, p := range obs {
				if !p.at.After(o.at) || p.at.After(o.at.Add(ttl)) {
					continue
				}
				if _, rev := revokedAt[k.KID]; rev {
					continue
				}
				if !slices.Contains(p.published, k.KID) {
					t.Errorf("B: %s replica %d signed with %s; replica %d does not publish it at %s",
						o.at.Sub(t0), o.replica, k.KID, p.replica, p.at.Sub(t0))
					t.Logf("history of %s: %v", k.KID, hist[k.KID])
					break
				}
			}
		}
	}
}
