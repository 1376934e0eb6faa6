package keys_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// observation is what a replica serves between two refreshes, seen by one algorithm's chain.
type observation struct {
	at        time.Time
	signing   keys.Meta // the chain's signing key
	published []string
	stored    []string // KIDs in the backend
	version   string
}

// schedule is when a simulation refreshes: every step from t0 up to t0+total, skipping the
// instants (offsets from t0) for which down returns true, the broker not running; a nil down
// means it always runs.
type schedule struct {
	step, total time.Duration
	down        func(time.Duration) bool
}

// simulate runs a Manager with policy p on a memory backend with an injected clock, refreshing
// on s. It returns the observations of each algorithm of p.
func simulate(t *testing.T, p keys.Policy, s schedule) map[string][]observation {
	t.Helper()
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: p, Now: clk.Now})
	var prevSigners []string
	var prevVersion string
	obs := map[string][]observation{}
	for d := time.Duration(0); d <= s.total; d += s.step {
		if s.down != nil && s.down(d) {
			continue
		}
		clk.Set(t0.Add(d))
		changed := refresh(t, m)
		snap := m.Snapshot()
		set, err := b.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		signers := snapKIDs(snap.Signers)
		if len(signers) != len(p.Algorithms()) || snap.Signers[0].KID != snap.Signing.KID {
			t.Fatalf("%s: signers %v, signing %s; want one per algorithm of %v, Signing first", clk.Now(), signers, snap.Signing.KID, p.Algorithms())
		}
		for _, alg := range p.Algorithms() {
			k, ok := snap.SigningFor(alg)
			if !ok || k.Alg != alg {
				t.Fatalf("%s: SigningFor(%s) = %s %s, %v", clk.Now(), alg, k.KID, k.Alg, ok)
			}
			o := observation{at: clk.Now(), signing: k.Meta, published: snapKIDs(snap.Published),
				stored: kids(set), version: snap.Version}
			if n := len(obs[alg]); n > 0 {
				prev := obs[alg][n-1]
				same := slices.Equal(prevSigners, signers) && slices.Equal(prev.published, o.published)
				if changed == same || (prevVersion == o.version) != same {
					t.Fatalf("%s: changed=%v, version %s→%s, but signing %v→%v published %v→%v",
						o.at, changed, prevVersion, o.version, prevSigners, signers, prev.published, o.published)
				}
			}
			obs[alg] = append(obs[alg], o)
		}
		prevSigners, prevVersion = signers, snap.Version
	}
	return obs
}

// checkInvariants checks, over a simulated history:
//   - the key signing at t was published at every observation in [t-Prepublish, t] (from the
//     first instant that is at least Prepublish after the start);
//   - a key that stopped signing at r is published until r+Retain and not from then on, and is
//     gone from the backend at the first observation from r+Retain on;
//   - every key but the bootstrap one was created at least Prepublish before it activated;
//   - at most three keys per algorithm are ever published.
func checkInvariants(t *testing.T, p keys.Policy, obs []observation) {
	t.Helper()
	firstPublished := map[string]time.Time{}
	stopped := map[string]time.Time{}
	metas := map[string]keys.Meta{}
	for i, o := range obs {
		for _, kid := range o.published {
			if _, ok := firstPublished[kid]; !ok {
				firstPublished[kid] = o.at
			}
		}
		if len(o.published) > 3*len(p.Algorithms()) {
			t.Errorf("%s: %d keys published", o.at, len(o.published))
		}
		metas[o.signing.KID] = o.signing
		if i > 0 && obs[i-1].signing.KID != o.signing.KID {
			stopped[obs[i-1].signing.KID] = o.at
		}
		if o.at.Sub(t0) >= p.Prepublish {
			if since := firstPublished[o.signing.KID]; o.at.Sub(since) < p.Prepublish {
				t.Errorf("%s: key %s signs but was first published at %s", o.at, o.signing.KID, since)
			}
			from := sort.Search(i, func(j int) bool { return !obs[j].at.Before(o.at.Add(-p.Prepublish)) })
			for _, e := range obs[from:i] {
				if !slices.Contains(e.published, o.signing.KID) {
					t.Errorf("%s: key %s signs but was not published at %s", o.at, o.signing.KID, e.at)
				}
			}
		}
	}
	for kid, m := range metas {
		if m.Activates.After(t0) && m.Activates.Sub(m.Created) < p.Prepublish {
			t.Errorf("key %s created %s activates %s: less than prepublish", kid, m.Created, m.Activates)
		}
	}
	for kid, r := range stopped {
		if want := metas[kid].Retires; !want.IsZero() && r.Before(want) {
			t.Errorf("key %s stopped signing at %s, before its retirement %s", kid, r, want)
		}
		// It stays at least Retain and leaves within the replicas' Linger after that.
		gone, leaves := false, r.Add(p.Linger()+p.Retain)
		for _, o := range obs {
			switch published := slices.Contains(o.published, kid); {
			case o.at.Before(r):
			case o.at.Before(r.Add(p.Retain)) && !published:
				t.Errorf("%s: key %s stopped signing at %s and is no longer published", o.at, kid, r)
			case !o.at.Before(leaves) && published:
				t.Errorf("%s: key %s stopped signing at %s and is still published", o.at, kid, r)
			case !o.at.Before(leaves) && !gone:
				gone = true
				if slices.Contains(o.stored, kid) {
					t.Errorf("%s: expired key %s is still stored", o.at, kid)
				}
			}
		}
	}
}

func TestRotationSimulation(t *testing.T) {
	tests := []struct {
		p           keys.Policy
		step        time.Duration
		down        func(time.Duration) bool
		total       time.Duration // 4 periods + retain + step when zero
		wantSigners int           // distinct signing keys over the run
	}{{
		p:           keys.Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256},
		step:        time.Hour,
		wantSigners: 5,
	}, {
		p:           keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 3 * time.Minute, Alg: keys.ES256},
		step:        10 * time.Second,
		wantSigners: 5,
	}, {
		// Retain longer than the period: three generations coexist.
		p:           keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 9 * time.Minute, Alg: keys.ES256},
		step:        10 * time.Second,
		wantSigners: 5,
	}, {
		// The broker is down from 15m to 42m: the overdue key is still prepublished.
		p:     keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 3 * time.Minute, Alg: keys.ES256},
		step:  10 * time.Second,
		down:  func(d time.Duration) bool { return d > 15*time.Minute && d < 42*time.Minute },
		total: 80 * time.Minute,
		// Keys sign from 0, 10m, 44m (overdue at 42m, so prepublished until then), 54m, 64m, 74m.
		wantSigners: 6,
	}, {
		// ES256 configured: an RS256 chain rotates beside it, on the same schedule.
		p:           keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 3 * time.Minute, Alg: keys.ES256, Also: []string{keys.RS256}},
		step:        10 * time.Second,
		wantSigners: 5,
	}, {
		p:     keys.Policy{Period: 10 * time.Minute, Prepublish: 2 * time.Minute, Retain: 9 * time.Minute, Alg: keys.ES256, Also: []string{keys.RS256}},
		step:  10 * time.Second,
		down:  func(d time.Duration) bool { return d > 15*time.Minute && d < 42*time.Minute },
		total: 80 * time.Minute,
		// Keys sign from 0, 10m, 44m, 54m, 64m, 74m.
		wantSigners: 6,
	}}
	for _, tt := range tests {
		name := fmt.Sprintf("period=%s/prepublish=%s/retain=%s/outage=%v/algs=%v", tt.p.Period, tt.p.Prepublish, tt.p.Retain, tt.down != nil, tt.p.Algorithms())
		t.Run(name, func(t *testing.T) {
			total := tt.total
			if total == 0 {
				total = 4*tt.p.Period + tt.p.Retain + tt.step
			}
			for alg, obs := range simulate(t, tt.p, schedule{step: tt.step, total: total, down: tt.down}) {
				checkInvariants(t, tt.p, obs)
				var signers []string
				for _, o := range obs {
					if o.signing.Alg != alg {
						t.Fatalf("%s: the %s chain signs with %s key %s", o.at, alg, o.signing.Alg, o.signing.KID)
					}
					if len(signers) == 0 || signers[len(signers)-1] != o.signing.KID {
						signers = append(signers, o.signing.KID)
					}
				}
				if len(signers) != tt.wantSigners {
					t.Errorf("%s: %d signing keys over the run, want %d", alg, len(signers), tt.wantSigners)
				}
			}
		})
	}
}
