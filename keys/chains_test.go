package keys_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// rsMeta is meta for an RS256 key.
func rsMeta(kid string, at hours) keys.Meta {
	m := meta(kid, at)
	m.Alg = keys.RS256
	return m
}

// twoChains is policy keeping an RS256 chain beside the configured ES256 one.
var twoChains = func() keys.Policy {
	p := policy
	p.Also = []string{keys.RS256}
	return p
}()

func TestDecideTwoChains(t *testing.T) {
	tests := []struct {
		name string
		p    keys.Policy
		now  float64
		set  []keys.Meta
		want keys.Decision
	}{{
		name: "bootstrap: the configured chain first",
		p:    twoChains, now: 3,
		want: keys.Decision{Alg: keys.ES256, Generate: true, Activates: h(3)},
	}, {
		name: "bootstrap: the second chain signs at once too (nothing was published before now)",
		p:    twoChains, now: 3,
		set:  []keys.Meta{meta("e", hours{created: 3, activates: 3})},
		want: keys.Decision{Alg: keys.RS256, Generate: true, Activates: h(3)},
	}, {
		name: "a chain added to a published set is prepublished",
		p:    twoChains, now: 100,
		set:  []keys.Meta{meta("e", hours{})},
		want: keys.Decision{Alg: keys.RS256, Generate: true, Activates: h(124 + rh)},
	}, {
		name: "both fresh: nothing to do",
		p:    twoChains, now: 200,
		set: []keys.Meta{meta("e", hours{}), rsMeta("r", hours{created: 100, activates: 100})},
	}, {
		name: "each chain rotates on its own schedule",
		p:    twoChains, now: 796,
		set:  []keys.Meta{meta("e2", hours{created: 696 - rh, activates: 720}), rsMeta("r", hours{created: 100, activates: 100})},
		want: keys.Decision{Alg: keys.RS256, Generate: true, Activates: h(820 + rh), Retire: "r", Retires: h(820 + rh)},
	}, {
		name: "an expired key of one chain is dropped, never the other chain's signer",
		p:    twoChains, now: 744 + lh,
		set:  []keys.Meta{rsMeta("r", hours{retires: 10}), meta("e", hours{retires: 720}), meta("e2", hours{created: 696 - rh, activates: 720})},
		want: keys.Decision{Alg: keys.ES256, Drop: []string{"e"}},
	}, {
		name: "a key of an algorithm no longer kept stops signing now",
		p:    policy, now: 300,
		set:  []keys.Meta{meta("e", hours{}), rsMeta("r", hours{created: 100, activates: 100})},
		want: keys.Decision{Alg: keys.RS256, Retire: "r", Retires: h(300)},
	}, {
		name: "and is dropped once expired",
		p:    policy, now: 324 + lh,
		set:  []keys.Meta{meta("e", hours{}), rsMeta("r", hours{created: 100, activates: 100, retires: 300})},
		want: keys.Decision{Drop: []string{"r"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys.Decide(h(tt.now), tt.set, tt.p)
			if !sameDecision(got, tt.want) || (!got.Empty() && got.Generate && got.Alg != tt.want.Alg) {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSigningPerAlgorithm(t *testing.T) {
	set := []keys.Meta{
		meta("e", hours{retires: 720}),
		meta("e2", hours{created: 696 - rh, activates: 720}),
		rsMeta("r", hours{activates: 5}),
	}
	for alg, want := range map[string]string{keys.ES256: "e", keys.RS256: "r"} {
		if got, ok := keys.Signing(h(10), set, alg); !ok || got.KID != want {
			t.Errorf("Signing(%s) = %s, %v; want %s", alg, got.KID, ok, want)
		}
	}
	if got, ok := keys.Signing(h(10), set[:2], keys.RS256); ok {
		t.Errorf("Signing(RS256) of an ES256-only set = %s, want none", got.KID)
	}
}

func TestForceRotateOneChain(t *testing.T) {
	set := []keys.Meta{meta("e", hours{}), rsMeta("r", hours{})}
	rs := twoChains
	rs.Alg = keys.RS256
	d, err := keys.ForceRotate(h(100), set, rs)
	want := keys.Decision{Alg: keys.RS256, Generate: true, Activates: h(124 + rh), Retire: "r", Retires: h(124 + rh)}
	if err != nil || !sameDecision(d, want) || d.Alg != keys.RS256 {
		t.Fatalf("ForceRotate(RS256) = %+v, %v; want %+v", d, err, want)
	}
	pending := append(set, rsMeta("r2", hours{created: 100, activates: 124}))
	pending[1].Retires = h(124)
	if _, err := keys.ForceRotate(h(110), pending, rs); !errors.Is(err, keys.ErrRotationPending) {
		t.Fatalf("ForceRotate(RS256) with r2 pending = %v, want ErrRotationPending", err)
	}
	if d, err := keys.ForceRotate(h(110), pending, twoChains); err != nil || d.Retire != "e" {
		t.Fatalf("ForceRotate(ES256) with an RS256 key pending = %+v, %v; want e retired", d, err)
	}
}

func TestManagerRotatesEveryChain(t *testing.T) {
	clk := fakeclock.New(t0)
	m := newManager(t, keys.Config{Backend: keys.NewMemory(), Policy: twoChains, Now: clk.Now})
	refresh(t, m)
	snap := m.Snapshot()
	es, _ := snap.SigningFor(keys.ES256)
	rs, ok := snap.SigningFor(keys.RS256)
	if !ok || snap.Signing.KID != es.KID || es.Alg != keys.ES256 || len(snap.Published) != 2 {
		t.Fatalf("bootstrap: signing %s, signers %v, published %v", snap.Signing.KID, snapKIDs(snap.Signers), snapKIDs(snap.Published))
	}
	clk.Set(h(100))
	if err := m.Rotate(context.Background()); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if got := m.Snapshot().Published; len(got) != 4 {
		t.Fatalf("after Rotate: published %v, want both chains' successors", snapKIDs(got))
	}
	if err := m.Rotate(context.Background()); !errors.Is(err, keys.ErrRotationPending) {
		t.Errorf("second Rotate = %v, want ErrRotationPending", err)
	}
	clk.Set(h(124 + rh))
	refresh(t, m)
	for alg, old := range map[string]string{keys.ES256: es.KID, keys.RS256: rs.KID} {
		if k, _ := m.Snapshot().SigningFor(alg); k.KID == old || k.Alg != alg {
			t.Errorf("%s: signing %s (%s) after prepublish, want the rotated key", alg, k.KID, k.Alg)
		}
	}
}

// TestManagerAlgorithmChange: when keys.algorithm changes, the new chain is prepublished and the
// old algorithm's key keeps signing by default until the new one takes over.
func TestManagerAlgorithmChange(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	rsOnly := policy
	rsOnly.Alg = keys.RS256
	m := newManager(t, keys.Config{Backend: b, Policy: rsOnly, Now: clk.Now})
	refresh(t, m)
	rs := m.Snapshot().Signing
	clk.Set(h(100))
	m = newManager(t, keys.Config{Backend: b, Policy: twoChains, Now: clk.Now})
	refresh(t, m)
	snap := m.Snapshot()
	var es keys.Key
	for _, k := range snap.Published {
		if k.Alg == keys.ES256 {
			es = k
		}
	}
	if _, signs := snap.SigningFor(keys.ES256); signs || !es.Activates.Equal(h(124+rh)) || snap.Signing.KID != rs.KID || len(snap.Published) != 2 {
		t.Fatalf("at the change: signing %s (want %s), ES256 key %s activating %s (want +124h1m, not signing yet: %v), published %v",
			snap.Signing.KID, rs.KID, es.KID, es.Activates, signs, snapKIDs(snap.Published))
	}
	clk.Set(h(124 + rh))
	if !refresh(t, m) {
		t.Error("Refresh did not report the change of the default signing key")
	}
	if got := m.Snapshot().Signing; got.KID != es.KID {
		t.Fatalf("after prepublish: signing %s, want the ES256 key %s", got.KID, es.KID)
	}
}

// TestAddedChainSignsOnlyWhenDue: a chain added to a set already published (an RS256 chain
// beside ES256, for the audiences that take only RS256) is prepublished, and its key does not
// sign for those audiences before it is due: a relying party holding the JWKS fetched before the
// key appeared would refuse its tokens.
func TestAddedChainSignsOnlyWhenDue(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	refresh(t, newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now}))
	clk.Set(h(100))
	m := newManager(t, keys.Config{Backend: b, Policy: twoChains, Now: clk.Now})
	refresh(t, m)
	snap := m.Snapshot()
	var rs keys.Key
	for _, k := range snap.Published {
		if k.Alg == keys.RS256 {
			rs = k
		}
	}
	if rs.KID == "" || !rs.Activates.Equal(h(124+rh)) {
		t.Fatalf("published %v: want the new RS256 key, due at 124h1m", snapKIDs(snap.Published))
	}
	if k, ok := snap.SigningFor(keys.RS256); ok {
		t.Errorf("at 100h the RS256 key %s signs, due at %s", k.KID, k.Activates)
	}
	clk.Set(h(124 + rh))
	refresh(t, m)
	if k, ok := m.Snapshot().SigningFor(keys.RS256); !ok || k.KID != rs.KID {
		t.Errorf("once due: SigningFor(RS256) = %s, %v; want %s", k.KID, ok, rs.KID)
	}
}

// TestDefaultSignerIsAmongSigners: the key that signs by default also signs for its algorithm,
// even when it is not due (a set whose only chain is of another algorithm, switched to a new
// one: nothing else can sign).
func TestDefaultSignerIsAmongSigners(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	refresh(t, newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now}))
	clk.Set(h(100))
	rsOnly := policy
	rsOnly.Alg = keys.RS256
	m := newManager(t, keys.Config{Backend: b, Policy: rsOnly, Now: clk.Now})
	refresh(t, m)
	snap := m.Snapshot()
	if snap.Signing.Alg != keys.RS256 || !snap.Signing.Activates.After(clk.Now()) {
		t.Fatalf("setup: signing %s (%s, due %s); want the new RS256 key, not yet due", snap.Signing.KID, snap.Signing.Alg, snap.Signing.Activates)
	}
	if k, ok := snap.SigningFor(keys.RS256); !ok || k.KID != snap.Signing.KID {
		t.Errorf("SigningFor(RS256) = %s, %v; want the default signer %s (signers %v)", k.KID, ok, snap.Signing.KID, snapKIDs(snap.Signers))
	}
}
