package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// TestVersionChangesWhenTheDefaultSigningKeyChanges: the snapshot's Version changes (and
// Refresh reports a change) when the default signing key changes, even when the set of signing
// KIDs and the published keys stay the same: here the configured algorithm's only key, made to
// sign at its creation by a replica whose clock is a little ahead, takes over from the other
// chain's key once this replica's clock reaches its creation.
// Guards against: manager.go:default signing KID left out of the Version hash
func TestVersionChangesWhenTheDefaultSigningKeyChanges(t *testing.T) {
	ctx := context.Background()
	mem := keys.NewMemory()
	es := storedKey(t, meta("es", hours{}))
	rs := storedKey(t, rsMeta("rs", hours{created: 10 + 1.0/120, activates: 10 + 1.0/120}))
	if err := mem.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es, rs}}); err != nil {
		t.Fatal(err)
	}
	p := policy
	p.Alg = keys.RS256
	p.Also = []string{keys.ES256}
	clk := fakeclock.New(h(10))
	m := newManager(t, keys.Config{Backend: mem, Policy: p, Now: clk.Now})
	refresh(t, m)
	before := m.Snapshot()
	if before.Signing.KID != es.KID {
		t.Fatalf("setup: signs with %s, want the ES256 key while the RS256 one is not due", before.Signing)
	}
	clk.Advance(time.Minute)
	changed := refresh(t, m)
	after := m.Snapshot()
	if after.Signing.KID != rs.KID {
		t.Fatalf("signs with %s once the RS256 key is due, want %s", after.Signing, rs)
	}
	if !changed || after.Version == before.Version {
		t.Errorf("default signing key changed, yet changed=%v and Version %s -> %s", changed, before.Version, after.Version)
	}
}

// TestAlgorithmsListsEachAlgorithmOnce: a policy's algorithms are its Alg first and then
// each further algorithm once, however often Also repeats it or repeats Alg.
// Guards against: policy.go:Algorithms keeps repeats
func TestAlgorithmsListsEachAlgorithmOnce(t *testing.T) {
	p := keys.Policy{Alg: keys.RS256, Also: []string{keys.RS256, keys.ES256, "", keys.ES256}}
	if got, want := p.Algorithms(), []string{keys.RS256, keys.ES256}; !slices.Equal(got, want) {
		t.Errorf("Algorithms() = %v, want %v", got, want)
	}
}

// TestKeyActivatingBeforeItsCreationCountsAsImmediate: a key whose Activates is before
// its Created was made to sign at its creation, like one whose Activates equals it: the key it
// follows is not kept signing (and published) until Lead after that creation, so it leaves the
// JWKS Linger plus Retain after its own retirement.
// Guards against: revoke.go:immediate only when Activates equals Created
func TestKeyActivatingBeforeItsCreationCountsAsImmediate(t *testing.T) {
	set := []keys.Meta{
		meta("a", hours{retires: 10}),
		meta("b", hours{created: 10, activates: 9}),
	}
	if got := metaKIDs(keys.Published(h(40), set, policy)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Published at 40h = %v, want [b]: a stopped signing at 10h", got)
	}
}

// TestExpiredKeyDatedAheadIsDroppedAsExpired: a key of an algorithm the policy no longer
// keeps, saved by a replica whose clock ran far ahead, is retired now and, once expired, dropped
// as an expired key, not as a key dated ahead.
// Guards against: loaded.go:dropReasons counts an expired key dated ahead as dated ahead
func TestExpiredKeyDatedAheadIsDroppedAsExpired(t *testing.T) {
	ctx := context.Background()
	mem := keys.NewMemory()
	es := storedKey(t, meta("es", hours{}))
	rs := storedKey(t, rsMeta("rs", hours{created: 9000, activates: 9000}))
	if err := mem.Save(ctx, keys.Set{Generation: 1, Keys: []keys.Key{es, rs}}); err != nil {
		t.Fatal(err)
	}
	var changes []keys.Change
	clk := fakeclock.New(h(1))
	m := newManager(t, keys.Config{Backend: mem, Policy: policy, Now: clk.Now,
		OnChange: func(_ context.Context, c keys.Change) { changes = append(changes, c) }})
	refresh(t, m)
	if len(changes) != 1 || changes[0].RetiredKID != rs.KID {
		t.Fatalf("setup: changes %+v, want %s retired", changes, rs.KID)
	}
	clk.Set(h(26))
	refresh(t, m)
	if len(changes) != 2 || !slices.Equal(changes[1].Dropped, []string{rs.KID}) || len(changes[1].DroppedAhead) != 0 {
		t.Errorf("changes %+v, want %s dropped as expired", changes, rs.KID)
	}
}
