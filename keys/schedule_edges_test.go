package keys_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestSigningBoundaries pins Signing at the exact instants its contract names: a key signs
// from its Activates (inclusive) and stops at its Retires (exclusive), also when an older key of
// the chain was never retired (the replacement of a key revoked while its successor was pending).
func TestSigningBoundaries(t *testing.T) {
	unretired := meta("old", hours{created: -30, activates: 0})
	tests := []struct {
		name string
		now  float64
		set  []keys.Meta
		want string
	}{
		{"successor signs at its Activates though an older key is unretired", 26,
			[]keys.Meta{unretired, meta("next", hours{created: 1, activates: 26})}, "next"},
		{"a key no longer signs at its Retires", 20,
			[]keys.Meta{unretired, meta("mid", hours{created: 5, activates: 10, retires: 20})}, "old"},
		{"a key still signs just before its Retires", 19.99,
			[]keys.Meta{unretired, meta("mid", hours{created: 5, activates: 10, retires: 20})}, "mid"},
	}
	for _, tt := range tests {
		got, ok := keys.Signing(h(tt.now), tt.set, keys.ES256)
		if !ok || got.KID != tt.want {
			t.Errorf("%s: Signing = %q, %v; want %q", tt.name, got.KID, ok, tt.want)
		}
	}
}

// TestPublishedKeepsKeyWhileEarlierKeyStays: a retired key stays published while a key
// before it in its chain stays (expiredAt), even when its own time is up.
func TestPublishedKeepsKeyWhileEarlierKeyStays(t *testing.T) {
	set := []keys.Meta{
		meta("o", hours{created: -30, activates: 0}), // never retired: stays
		meta("m", hours{created: 5, activates: 10, retires: 20}),
		meta("n", hours{created: 15, activates: 20}),
	}
	got := metaKIDs(keys.Published(h(1000), set, policy))
	if want := []string{"o", "m", "n"}; !slices.Equal(got, want) {
		t.Errorf("Published = %v; want %v", got, want)
	}
}

// TestRevokedPredecessorExpiresOnSchedule: a key retired by a revocation, whose successor
// signed at its creation (immediate), signs until its Retires only, so it leaves the JWKS
// Linger+Retain after that, not Lead later.
func TestRevokedPredecessorExpiresOnSchedule(t *testing.T) {
	set := []keys.Meta{
		meta("a", hours{created: -30, activates: 0, retires: 10}),
		meta("r", hours{created: 10, activates: 10}), // replacement: signs at creation
	}
	if got := metaKIDs(keys.Published(h(10+lh+24-0.001), set, policy)); !slices.Equal(got, []string{"a", "r"}) {
		t.Errorf("just before Retires+Linger+Retain: Published = %v; want [a r]", got)
	}
	if got := metaKIDs(keys.Published(h(10+lh+24+0.001), set, policy)); !slices.Equal(got, []string{"r"}) {
		t.Errorf("just after Retires+Linger+Retain: Published = %v; want [r]", got)
	}
}

// TestDecideRetiresUnretiredKeyAtSuccessorActivation: the replacement of a key revoked
// while its successor was pending retires when that successor starts signing, not at once.
func TestDecideRetiresUnretiredKeyAtSuccessorActivation(t *testing.T) {
	set := []keys.Meta{
		meta("pending", hours{created: 5, activates: 29 + rh}),
		meta("repl", hours{created: 10, activates: 10}), // revocation's replacement
	}
	d := keys.Decide(h(10), set, policy)
	if d.Retire != "repl" || !d.Retires.Equal(h(29+rh)) || d.Generate || len(d.Drop) != 0 {
		t.Errorf("Decide = %+v; want repl retiring at the pending key's Activates %s", d, h(29+rh))
	}
}

// TestNewChainOfSetCreatedWithinSkewIsImmediate: a key created less than MaxClockSkew after
// now (a replica whose clock is slightly ahead, within the allowed skew) is not dated ahead: the
// set is still fresh, so a chain added now gets a key that signs at once.
func TestNewChainOfSetCreatedWithinSkewIsImmediate(t *testing.T) {
	now := h(0)
	a := keys.Meta{KID: "a", Alg: keys.RS256, Created: now.Add(30 * time.Second), Activates: now.Add(30 * time.Second)}
	p := keys.Policy{Period: policy.Period, Prepublish: policy.Prepublish, Retain: policy.Retain, Alg: keys.RS256, Also: []string{keys.ES256}}
	d := keys.Decide(now, []keys.Meta{a}, p)
	if !d.Generate || d.Alg != keys.ES256 || !d.Activates.Equal(now) {
		t.Errorf("Decide = %+v; want an ES256 key signing at once (%s)", d, now)
	}
}

// TestRetirementWithinSkewOfHorizonIsKept: a retirement a replica up to MaxClockSkew ahead
// dated at the schedule's due instant is within the horizon: the schedule leaves it alone.
func TestRetirementWithinSkewOfHorizonIsKept(t *testing.T) {
	a := meta("a", hours{created: -1, activates: 0})
	a.Retires = h(720).Add(30 * time.Second) // due at 720h, dated by a clock 30s ahead
	if d := keys.Decide(h(1), []keys.Meta{a}, policy); !d.Empty() {
		t.Errorf("Decide = %+v; want no change (retirement within MaxClockSkew of the horizon)", d)
	}
	a.Retires = h(720).Add(90 * time.Second) // past horizon plus skew: comes back to the schedule
	if d := keys.Decide(h(1), []keys.Meta{a}, policy); d.Retire != "a" || !d.Retires.Equal(h(720)) {
		t.Errorf("Decide = %+v; want a retiring at %s", d, h(720))
	}
}

// TestSigningTieBrokenByCreatedBeforeKID: of two keys activating at the same instant, the
// one created later signs (compareMeta: Activates, then Created, then KID), whatever the KIDs.
func TestSigningTieBrokenByCreatedBeforeKID(t *testing.T) {
	set := []keys.Meta{meta("b", hours{created: 1, activates: 5}), meta("a", hours{created: 2, activates: 5})}
	if got, _ := keys.Signing(h(10), set, keys.ES256); got.KID != "a" {
		t.Errorf("Signing = %q; want a (created later)", got.KID)
	}
	if got := metaKIDs(keys.Published(h(10), set, policy)); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("Published = %v; want [b a] (ordered by Activates, then Created)", got)
	}
}

// TestApplyNewKeyStartsUnretired: the generated key joins the set signing from
// d.Activates with no retirement, whatever Retires the generator handed back (Backend.Generate:
// "signing from now until a rotation decision sets its schedule").
func TestApplyNewKeyStartsUnretired(t *testing.T) {
	a := fakeSignerKey(t, meta("a", hours{}))
	set := keys.Set{Generation: 1, Keys: []keys.Key{a}}
	n := fakeSignerKey(t, meta("n", hours{created: 1, activates: 1, retires: 2}))
	next, err := keys.Apply(set, keys.Decision{Generate: true, Activates: h(30), Retire: "a", Retires: h(30)}, n)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := next.Find("n")
	if !ok || !got.Activates.Equal(h(30)) || !got.Retires.IsZero() {
		t.Errorf("new key = %+v; want activates %s and no Retires", got.Meta, h(30))
	}
}

// TestRotateSkipsOnlyThePendingChain: Manager.Rotate leaves a chain whose new key is
// already waiting as it is and rotates the others; ErrRotationPending only when every chain is
// pending.
func TestRotateSkipsOnlyThePendingChain(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	store := keys.NewMemory()
	p := policy
	p.Also = []string{keys.RS256}
	m := newManager(t, keys.Config{Backend: store, Policy: p, Now: clk.Now})
	refresh(t, m)
	clk.Set(h(1))
	if _, err := keys.StartRotation(ctx, keys.RotationConfig{Backend: store, Policy: p, Algs: []string{keys.ES256}, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	refresh(t, m)
	before, _ := store.Load(ctx)
	if err := m.Rotate(ctx); err != nil {
		t.Fatalf("Rotate with only the ES256 chain pending = %v; want the RS256 chain rotated", err)
	}
	after, _ := store.Load(ctx)
	if len(after.Keys) != len(before.Keys)+1 {
		t.Errorf("Rotate: %d keys, then %d; want one new (RS256) key", len(before.Keys), len(after.Keys))
	}
}

// TestRetiredExpiredSigningKeyIsStillPublished: a chain whose only key retired long ago
// (no successor yet) keeps signing with it, so the Manager publishes it though Published counts
// it expired: a token must never carry a KID the JWKS lacks.
func TestRetiredExpiredSigningKeyIsStillPublished(t *testing.T) {
	ctx := context.Background()
	store := keys.NewMemory()
	k := storedKey(t, meta("k1", hours{retires: 10}))
	if err := store.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{k}}); err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.New(h(100))
	m := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now})
	refresh(t, m)
	snap := m.Snapshot()
	if snap.Signing.KID != k.KID || !slices.Contains(snapKIDs(snap.Published), k.KID) {
		t.Errorf("signing %s, published %v; want %s signing and published", snap.Signing.KID, snapKIDs(snap.Published), k.KID)
	}
}

// failingSaves is a backend whose saves fail once broken.
type failingSaves struct {
	keys.Backend
	broken bool
}

func (f *failingSaves) Save(ctx context.Context, s keys.Set) error {
	if f.broken {
		return errors.New("store unreachable")
	}
	return f.Backend.Save(ctx, s)
}

// rsBesideES is a Manager at t0, refreshed once, of an RS256 chain beside an ES256 one, on a
// memory store behind failingSaves.
func rsBesideES(t *testing.T) (*keys.Manager, *keys.Memory, *failingSaves, *fakeclock.Clock) {
	t.Helper()
	mem := keys.NewMemory()
	store := &failingSaves{Backend: mem}
	clk := fakeclock.New(t0)
	rsPolicy := policy
	rsPolicy.Alg = keys.RS256
	rsPolicy.Also = []string{keys.ES256}
	m := newManager(t, keys.Config{Backend: store, Policy: rsPolicy, Now: clk.Now})
	refresh(t, m)
	return m, mem, store, clk
}

// TestNoSigningKeyOfTheConfiguredAlg: when the set loaded holds no key of the policy's Alg
// (another replica, configured for another algorithm, dropped that chain) but one of an Also
// algorithm and the new key cannot
// be saved, the Manager does not switch to signing with another algorithm: the refresh fails with
// ErrNoSigningKey semantics and the snapshot in force stays.
func TestNoSigningKeyOfTheConfiguredAlg(t *testing.T) {
	ctx := context.Background()
	m, mem, store, clk := rsBesideES(t)
	if m.Snapshot().Signing.Alg != keys.RS256 {
		t.Fatalf("setup: signs with %s", m.Snapshot().Signing.Alg)
	}
	es := storedKey(t, meta("es1", hours{created: 1, activates: 1}))
	cur, _ := mem.Load(ctx)
	if err := mem.Save(ctx, keys.Set{Generation: cur.Generation + 1, Keys: []keys.Key{es}}); err != nil {
		t.Fatal(err)
	}
	store.broken = true
	clk.Set(h(2))
	if _, err := m.Refresh(ctx); err == nil {
		t.Fatal("Refresh with saves failing succeeded")
	}
	if got := m.Snapshot().Signing; got.Alg != keys.RS256 {
		t.Errorf("after a failed refresh the Manager signs with %s (%s); want an RS256 key as configured", got.Alg, got.KID)
	}
}

// lateReplicaSigning has replica b rotate at 700h and replica a, with tokenTTL, first load the
// new key at pickup; it returns the key a signs with right then, and the old and new KIDs.
func lateReplicaSigning(t *testing.T, tokenTTL time.Duration, pickup time.Time) (signing, old, fresh string) {
	t.Helper()
	clk := fakeclock.New(t0)
	store := keys.NewMemory()
	a := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, TokenTTL: tokenTTL})
	b := newManager(t, keys.Config{Backend: store, Policy: policy, Now: clk.Now, TokenTTL: tokenTTL})
	refresh(t, a)
	refresh(t, b)
	old = a.Snapshot().Signing.KID
	clk.Set(h(700))
	refresh(t, b) // the rotation: a key created at 700h, signing from 724h+rh
	set := b.Snapshot().Published
	fresh = set[len(set)-1].KID
	clk.Set(pickup)
	refresh(t, a) // a missed every refresh meanwhile
	pub := snapKIDs(a.Snapshot().Published)
	if len(pub) != 2 {
		t.Fatalf("setup: a publishes %v; want the old and the new key", pub)
	}
	return a.Snapshot().Signing.KID, old, fresh
}

// TestZeroTokenTTLHoldsForPrepublishHoweverLate: with TokenTTL zero, a key this replica
// published late is held back for Prepublish from its publication here, however late
// (Config.TokenTTL), even past Created+Lead+Retain.
func TestZeroTokenTTLHoldsForPrepublishHoweverLate(t *testing.T) {
	signing, old, _ := lateReplicaSigning(t, 0, h(700+24+rh+24).Add(30*time.Second))
	if signing != old {
		t.Errorf("a signs with %s right after publishing it; want %s until it was published here for prepublish", signing, old)
	}
}

// TestTokenTTLHoldsUntilLeadPlusRetainMinusTTL: with TokenTTL, a key published here late
// is still held back while a token signed now by the old key expires before the old key leaves
// the JWKS: until Created+Lead+Retain-TokenTTL (here 700h+47h+rh), not Created+Lead nor
// Created+Retain-TokenTTL.
func TestTokenTTLHoldsUntilLeadPlusRetainMinusTTL(t *testing.T) {
	signing, old, _ := lateReplicaSigning(t, time.Hour, h(730))
	if signing != old {
		t.Errorf("at 730h a signs with %s; want %s held (may hold until %s)", signing, old, h(747+rh))
	}
	signing, _, fresh := lateReplicaSigning(t, time.Hour, h(747+rh).Add(time.Second))
	if signing != fresh {
		t.Errorf("past Created+Lead+Retain-TokenTTL a signs with %s; want the new key %s", signing, fresh)
	}
}

// TestPublishedSinceCountsFromServing: a key this replica publishes late counts as
// published here from when the snapshot holding it is served (publish stamps it again at
// m.now() after the swap), not from the instant the refresh decided at: a JWKS served meanwhile
// lacks it.
func TestPublishedSinceCountsFromServing(t *testing.T) {
	p := policy
	p.Retain = 48 * time.Hour
	cur := t0
	ticking := false
	now := func() time.Time {
		t := cur
		if ticking {
			cur = cur.Add(time.Minute) // every read of the clock takes a minute
		}
		return t
	}
	store := keys.NewMemory()
	a := newManager(t, keys.Config{Backend: store, Policy: p, Now: now})
	b := newManager(t, keys.Config{Backend: store, Policy: p, Now: now})
	refresh(t, a)
	refresh(t, b)
	old := a.Snapshot().Signing.KID
	cur = h(700)
	refresh(t, b) // the rotation: a key created at 700h, signing from 724h+rh
	cur = h(726)
	ticking = true
	refresh(t, a) // a publishes the new key late; the refresh takes minutes by its clock
	ticking = false
	decided := a.Snapshot().At
	if len(a.Snapshot().Published) != 2 || decided.Equal(cur) {
		t.Fatalf("setup: published %v, decided at %s, clock %s", snapKIDs(a.Snapshot().Published), decided, cur)
	}
	cur = decided.Add(p.Prepublish + 30*time.Second) // within a minute of the decision: not yet served for prepublish
	refresh(t, a)
	if got := a.Snapshot().Signing.KID; got != old {
		t.Errorf("a signs with %s %s after deciding to publish it; want %s until it was served for prepublish", got, p.Prepublish+30*time.Second, old)
	}
}

// TestFailedPublishDoesNotCountAsPublished: a key first seen in a set that cannot be put in
// force (no key of the configured algorithm, and the replacement cannot be saved) was served in
// no JWKS, so its prepublish counts from when a snapshot holding it is served, not from the
// failed attempt.
func TestFailedPublishDoesNotCountAsPublished(t *testing.T) {
	ctx := context.Background()
	m, mem, store, clk := rsBesideES(t)
	first, _ := mem.Load(ctx)
	i := slices.IndexFunc(first.Keys, func(k keys.Key) bool { return k.Alg == keys.ES256 })
	if i < 0 {
		t.Fatalf("setup: the first set holds %v; want an ES256 key", kids(first))
	}
	es1 := first.Keys[i]
	// A successor of es1 created long enough ago that only its publication here holds it back,
	// signing from 110h: es1 stays published past the end of the test.
	es2 := storedKey(t, meta("es2", hours{created: 10, activates: 110}))
	if err := mem.Save(ctx, keys.Set{Generation: first.Generation + 1, Keys: []keys.Key{es1, es2}}); err != nil {
		t.Fatal(err)
	}
	store.broken = true
	clk.Set(h(100))
	if _, err := m.Refresh(ctx); err == nil {
		t.Fatal("setup: Refresh of a set without an RS256 key, saves failing, succeeded")
	}
	if pub := snapKIDs(m.Snapshot().Published); slices.Contains(pub, es2.KID) {
		t.Fatalf("setup: the failed refresh published %v", pub)
	}
	store.broken = false // the next Refresh generates an RS256 key
	clk.Set(h(100 + 24 + rh))
	refresh(t, m)
	snap := m.Snapshot()
	if pub := snapKIDs(snap.Published); !slices.Contains(pub, es2.KID) || !slices.Contains(pub, es1.KID) {
		t.Fatalf("setup: after the store is mended the Manager publishes %v; want %s and %s", pub, es1.KID, es2.KID)
	}
	j := slices.IndexFunc(snap.Signers, func(k keys.Key) bool { return k.Alg == keys.ES256 })
	switch {
	case j < 0:
		t.Errorf("no ES256 signer; want %s", es1.KID)
	case snap.Signers[j].KID != es1.KID:
		t.Errorf("ES256 signs with %s, first served just now; want %s until %s was served here for prepublish",
			snap.Signers[j].KID, es1.KID, es2.KID)
	}
}
