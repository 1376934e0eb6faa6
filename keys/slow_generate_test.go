package keys_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// slowGenerate returns a GenerateFunc that takes d on clk to create a key, as Vault Transit
// does for an RSA key (it may take up to keys/vaulttransit.MinKeyTimeout).
func slowGenerate(clk *fakeclock.Clock, d time.Duration) keys.GenerateFunc {
	return func(ctx context.Context, alg string, now time.Time) (keys.Key, error) {
		k, err := keys.GenerateLocal(ctx, alg, now)
		clk.Advance(d)
		return k, err
	}
}

// TestSlowGenerateKeepsPrepublishFromEveryJWKS checks that a new key is saved prepublish plus
// two refresh intervals before any replica signs with it, also when making it took a while (a
// Vault Transit key version): a relying party that fetched a replica's JWKS just before that
// replica picked the key up never meets the key's tokens within prepublish of that fetch.
func TestSlowGenerateKeepsPrepublishFromEveryJWKS(t *testing.T) {
	clk := fakeclock.New(t0)
	backend := keys.NewMemory()
	interval := keys.RefreshInterval(policy.Prepublish)
	a := newManager(t, keys.Config{Backend: backend, Policy: policy, Now: clk.Now,
		Generate: slowGenerate(clk, 25*time.Second)})
	b := newManager(t, keys.Config{Backend: backend, Policy: policy, Now: clk.Now})
	refresh(t, a)
	refresh(t, b)
	first := a.Snapshot().Signing.KID

	// The rotation is due: replica a decides it; creating the key takes 25s.
	clk.Set(t0.Add(policy.Period - policy.Lead()))
	refresh(t, a)
	saved := clk.Now()
	pub := a.Snapshot().Published
	next := pub[len(pub)-1].KID
	if next == first {
		t.Fatal("no new key was saved")
	}

	// Replica b picks the key up just within two refresh intervals of the save; a relying
	// party fetched b's JWKS, which lacked it, just before.
	fetched := saved.Add(2*interval - 2*time.Millisecond)
	clk.Set(fetched.Add(time.Millisecond))
	refresh(t, b)

	// Within prepublish of that fetch (checked in ascending time), no replica may sign with
	// the new key.
	for _, at := range []time.Duration{20 * time.Second, 10 * time.Second, time.Second, 0} {
		clk.Set(fetched.Add(policy.Prepublish - time.Second - at))
		for name, m := range map[string]*keys.Manager{"a": a, "b": b} {
			refresh(t, m)
			if got := m.Snapshot().Signing.KID; got == next {
				t.Errorf("replica %s signs with key %s at %v, %v after it was saved and %v "+
					"after a JWKS without it was fetched; want it to wait prepublish (%v) "+
					"after that fetch",
					name, next, clk.Now().Format(time.RFC3339Nano), clk.Now().Sub(saved),
					clk.Now().Sub(fetched), policy.Prepublish)
			}
		}
	}
}

// timedBackend is a Memory backend whose Generate takes a while on clk, as making a Vault
// Transit key does.
type timedBackend struct {
	*keys.Memory
	clk  *fakeclock.Clock
	took time.Duration
}

func (b *timedBackend) Generate(ctx context.Context, alg string, now time.Time) (keys.Key, error) {
	b.clk.Advance(b.took)
	return b.Memory.Generate(ctx, alg, now)
}

// TestStartRotationDatesKeysWhenMade checks that a rotation started with a Clock dates each new
// key, and schedules it and the retirement of the key it replaces, from when the last new key
// was made: the replicas count the lead from a key's Created, so a key dated before it was made
// would sign sooner than prepublish after every replica published it. Without a Clock, the
// rotation is at Now exactly.
func TestStartRotationDatesKeysWhenMade(t *testing.T) {
	for _, withClock := range []string{"with a clock", "without"} {
		t.Run(withClock, func(t *testing.T) {
			clk := fakeclock.New(t0)
			b := &timedBackend{Memory: keys.NewMemory(), clk: clk, took: 20 * time.Second}
			var set keys.Set
			for _, alg := range []string{keys.ES256, keys.RS256} {
				k, err := keys.Generate(alg, t0.Add(-time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				set.Keys = append(set.Keys, k)
			}
			set.Generation = 1
			if err := b.Save(context.Background(), set); err != nil {
				t.Fatal(err)
			}
			rc := keys.RotationConfig{Backend: b, Policy: policy, Now: t0}
			want := t0
			if withClock == "with a clock" {
				rc.Clock = clk.Now
				want = t0.Add(40 * time.Second) // two keys made, 20 s each
			}
			started, err := keys.StartRotation(context.Background(), rc)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := b.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range started {
				k, _ := saved.Find(s.KID)
				old, _ := saved.Find(s.Retired)
				if !k.Created.Equal(want) || !k.Activates.Equal(want.Add(policy.Lead())) ||
					!s.Activates.Equal(k.Activates) || !old.Retires.Equal(k.Activates) {
					t.Errorf("%s key created %v, activates %v (reported %v), its predecessor "+
						"retires %v; want created %v and both at %v", s.Alg, k.Created,
						k.Activates, s.Activates, old.Retires, want, want.Add(policy.Lead()))
				}
			}
		})
	}
}

// TestDecisionDelayed checks that Delayed moves a new key's activation, and the retirement at
// it, by the delay, and leaves as it is a decision without a new key, one whose key signs at
// once, and one not delayed.
func TestDecisionDelayed(t *testing.T) {
	at := t0.Add(policy.Lead())
	rotate := keys.Decision{Alg: keys.ES256, Generate: true, Activates: at, Retire: "old", Retires: at}
	for _, tc := range []struct {
		name string
		d    keys.Decision
		late time.Duration
		want keys.Decision
	}{
		{"a rotation made late", rotate, time.Second, keys.Decision{Alg: keys.ES256,
			Generate: true, Activates: at.Add(time.Second), Retire: "old",
			Retires: at.Add(time.Second)}},
		{"a rotation on time", rotate, 0, rotate},
		{"a key that signs at once", keys.Decision{Generate: true, Activates: t0}, time.Second,
			keys.Decision{Generate: true, Activates: t0}},
		{"a retirement alone", keys.Decision{Retire: "old", Retires: at}, time.Second,
			keys.Decision{Retire: "old", Retires: at}},
	} {
		got := tc.d.Delayed(t0, tc.late)
		if !got.Activates.Equal(tc.want.Activates) || !got.Retires.Equal(tc.want.Retires) ||
			got.Generate != tc.want.Generate || got.Retire != tc.want.Retire {
			t.Errorf("%s: Delayed(%v) = %+v, want %+v", tc.name, tc.late, got, tc.want)
		}
	}
}

// countingGenerate is slowGenerate that also counts the keys it makes.
func countingGenerate(clk *fakeclock.Clock, d time.Duration, n *int) keys.GenerateFunc {
	slow := slowGenerate(clk, d)
	return func(ctx context.Context, alg string, now time.Time) (keys.Key, error) {
		*n++
		return slow(ctx, alg, now)
	}
}

// TestSlowRotationKeyIsNotDroppedAsDatedAhead checks that a due rotation whose new key took
// longer than MaxClockSkew to make (a Vault Transit key version with a long timeout) makes one
// key and keeps it: the replica that made it never judges it, in the same refresh, as saved on
// a clock ahead.
func TestSlowRotationKeyIsNotDroppedAsDatedAhead(t *testing.T) {
	clk := fakeclock.New(t0)
	made := 0
	took := keys.MaxClockSkew + 30*time.Second
	m := newManager(t, keys.Config{Backend: keys.NewMemory(), Policy: policy, Now: clk.Now,
		Generate: countingGenerate(clk, took, &made)})
	refresh(t, m)
	first := m.Snapshot().Signing.KID
	made = 0

	clk.Set(t0.Add(policy.Period - policy.Lead()))
	refresh(t, m)
	if made != 1 {
		t.Errorf("a due rotation made %d keys, want 1", made)
	}
	in, err := m.InForce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set := in.Keys
	if len(set) != 2 || set[0].KID != first {
		t.Errorf("key set after the rotation = %+v, want %s and one new key", set, first)
	}
}

// TestFirstRefreshSignsEveryChainAtOnce checks that the first refresh of an empty set gives every
// chain of the policy a key that signs at once, also when making each key takes a moment: the
// first chain's key, made to sign at once, must not make the set count as published before the
// next chain's key is decided.
func TestFirstRefreshSignsEveryChainAtOnce(t *testing.T) {
	clk := fakeclock.New(t0)
	two := policy
	two.Also = []string{keys.RS256}
	m := newManager(t, keys.Config{Backend: keys.NewMemory(), Policy: two, Now: clk.Now,
		Generate: slowGenerate(clk, time.Millisecond)})
	refresh(t, m)
	for _, alg := range []string{keys.ES256, keys.RS256} {
		k, ok := m.Snapshot().SigningFor(alg)
		if !ok || k.Activates.After(clk.Now()) {
			t.Errorf("%s after the first refresh: %+v (ok %v), want a key signing at once", alg, k, ok)
		}
	}
}
