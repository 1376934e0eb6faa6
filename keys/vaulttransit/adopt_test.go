package vaulttransit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// A restart with the metadata in memory keeps the keys relying parties trust: with Adopt and an
// empty set, the versions Transit holds become the set, the same on every start, the older ones
// published until Retain after their successor took over. Any version after the first may have
// been rotated in Vault behind broker's back, so that no JWKS served it: each signs Prepublish
// plus Retain later than its creation plus Prepublish, the one before it signing meanwhile, in
// the schedule and in a Manager's snapshot.
func TestAdoptTransitVersions(t *testing.T) {
	v, token := startVault(t)
	name := uniqueKey()
	root := v.Client()
	if _, err := root.Logical().Write(mount+"/keys/"+name, map[string]any{"type": "ecdsa-p256"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		// The checks below probe a millisecond before each activation: the versions must be
		// created further apart than that, which a quiet machine's Vault does not always do.
		time.Sleep(10 * time.Millisecond)
		if _, err := root.Logical().Write(mount+"/keys/"+name+"/rotate", nil); err != nil {
			t.Fatal(err)
		}
	}
	const prepublish, retain = time.Second, time.Hour
	at := time.Now().Add(5 * time.Second) // every version's creation plus prepublish has passed
	now := func() time.Time { return at }
	backend := func(retain time.Duration) *vaulttransit.Backend {
		return newBackend(t, v, token, vaulttransit.Config{
			Key: name, Alg: keys.ES256, Adopt: true, Prepublish: prepublish, Retain: retain, Now: now,
		})
	}

	set := load(t, backend(retain))
	if set.Generation != 1 || len(set.Keys) != 3 {
		t.Fatalf("adopted generation %d with %d keys, want 1 with the 3 versions", set.Generation, len(set.Keys))
	}
	for i, k := range set.Keys {
		keystest.SignAndVerify(t, keys.ES256, k.Signer, k.Public())
		want := k.Created.Add(prepublish)
		if i > 0 {
			want = k.Created.Add(2*prepublish + retain)
		}
		if !k.Activates.Equal(want) {
			t.Errorf("key %d activates %s, want %s", i, k.Activates, want)
		}
		if i > 0 && !set.Keys[i-1].Retires.Equal(k.Activates) {
			t.Errorf("key %d retires %s, want its successor's activation %s", i-1, set.Keys[i-1].Retires, k.Activates)
		}
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{
		{at, 0}, {set.Keys[1].Activates.Add(-time.Millisecond), 0}, {set.Keys[1].Activates, 1},
		{set.Keys[2].Activates.Add(-time.Millisecond), 1}, {set.Keys[2].Activates, 2},
	} {
		if signing, _ := keys.Signing(c.at, set.Metas(), keys.ES256); signing.KID != set.Keys[c.want].KID {
			t.Errorf("adopted set signs at %s with %s, want version %d %s", c.at, signing.KID, c.want+1, set.Keys[c.want].KID)
		}
	}
	m, err := keys.NewManager(keys.Config{
		Backend: backend(retain),
		Policy:  keys.Policy{Period: 24 * time.Hour, Prepublish: prepublish, Retain: retain, Alg: keys.ES256},
		Now:     now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := m.Snapshot()
	if snap.Signing.KID != set.Keys[0].KID || len(snap.Published) != 3 {
		t.Fatalf("restarted manager signs with %s publishing %d keys, want version 1 %s with all 3 published",
			snap.Signing.KID, len(snap.Published), set.Keys[0].KID)
	}

	again := load(t, backend(retain))
	for i := range set.Keys {
		if !keystest.SameMeta(again.Keys[i].Meta, set.Keys[i].Meta) {
			t.Fatalf("second adoption differs at key %d: %+v, first %+v", i, again.Keys[i].Meta, set.Keys[i].Meta)
		}
	}
	// With retain 0, once the replicas' linger has passed, only the latest version is kept:
	// nothing else can sign, so it signs at once.
	lingered := at.Add(keys.Policy{Prepublish: prepublish}.Linger())
	short := load(t, newBackend(t, v, token, vaulttransit.Config{
		Key: name, Alg: keys.ES256, Adopt: true, Prepublish: prepublish, Now: func() time.Time { return lingered },
	}))
	if len(short.Keys) != 1 || short.Keys[0].KID != set.Keys[2].KID {
		t.Fatalf("with retain 0 adopted %v, want only the latest version", short.Metas())
	}
	if signing, _ := keys.Signing(lingered, short.Metas(), keys.ES256); signing.KID != set.Keys[2].KID {
		t.Fatalf("with retain 0 the adopted set signs with %s, want the latest version", signing.KID)
	}
	if plain := newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256}); len(load(t, plain).Keys) != 0 {
		t.Fatal("without Adopt, the backend adopted Transit's versions")
	}
}

func load(t *testing.T, b keys.Backend) keys.Set {
	t.Helper()
	set, err := b.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// Adoption's schedule is the same on every restart: a second restart shortly after a first one
// made at the end of the window in which the latest version is held back keeps publishing the
// key that signed moments before (tokens it signed still verify), and does not let the latest
// version sign before it has been published for Prepublish since the first restart.
func TestAdoptionStableAcrossRestarts(t *testing.T) {
	v, token := startVault(t)
	name := uniqueKey()
	root := v.Client()
	if _, err := root.Logical().Write(mount+"/keys/"+name, map[string]any{"type": "ecdsa-p256"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write(mount+"/keys/"+name+"/rotate", nil); err != nil {
		t.Fatal(err)
	}
	const prepublish, retain = 10 * time.Second, 20 * time.Second
	policy := keys.Policy{Period: time.Hour, Prepublish: prepublish, Retain: retain, Alg: keys.ES256}
	start := func(at time.Time) *keys.Manager {
		b := newBackend(t, v, token, vaulttransit.Config{
			Key: name, Alg: keys.ES256, Adopt: true, Prepublish: prepublish, Retain: retain,
			Now: func() time.Time { return at },
		})
		m, err := keys.NewManager(keys.Config{Backend: b, Policy: policy, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// Learn v2's Transit creation time.
	probe := load(t, newBackend(t, v, token, vaulttransit.Config{Key: name, Alg: keys.ES256, Adopt: true,
		Prepublish: prepublish, Retain: time.Hour}))
	if len(probe.Keys) != 2 {
		t.Fatalf("probe adopted %d keys", len(probe.Keys))
	}
	v1, v2 := probe.Keys[0].KID, probe.Keys[1].KID
	c2 := probe.Keys[1].Created

	// First restart: v1 still within retain of v2's Transit activation, so v1 signs until t0+P.
	t0 := c2.Add(prepublish + retain - time.Second)
	m0 := start(t0)
	if got := m0.Snapshot().Signing.KID; got != v1 {
		t.Fatalf("first restart signs with %s, want v1 %s (held-back v2)", got, v1)
	}
	// Second restart 2s later (v1 signed until then).
	t1 := t0.Add(2 * time.Second)
	m1 := start(t1)
	snap := m1.Snapshot()
	var pub []string
	for _, k := range snap.Published {
		pub = append(pub, k.KID)
	}
	if !slices.Contains(pub, v1) {
		t.Errorf("second restart %s after the first publishes %v without v1 %s, which signed until the restart (retain %s)",
			t1.Sub(t0), pub, v1, retain)
	}
	if snap.Signing.KID == v2 {
		t.Errorf("second restart signs at once with v2 %s, published only %s (< prepublish %s)", v2, t1.Sub(t0), prepublish)
	}
}
