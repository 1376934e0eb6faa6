package keys_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// year is how far ahead, in hours, the clock of the replica that decided wrongly was.
const year = 365 * 24

// rs256 is meta for an RS256 key.
func rs256(kid string, at hours) keys.Meta {
	m := meta(kid, at)
	m.Alg = keys.RS256
	return m
}

func TestDecideRedecidesWhatAClockAheadSaved(t *testing.T) {
	// What a refresh on a clock a year ahead saves: a successor created then, signing Lead
	// later, and the signing key retiring then.
	aheadRetired := meta("a", hours{retires: year + 24 + rh})
	ahead := meta("b", hours{created: year, activates: year + 24 + rh})
	tests := []struct {
		name string
		now  float64
		set  []keys.Meta
		want keys.Decision
	}{{
		name: "successor from a clock ahead, before the lead: dropped, the key retires at its period",
		now:  1,
		set:  []keys.Meta{aheadRetired, ahead},
		want: keys.Decision{Retire: "a", Retires: h(720), Drop: []string{"b"}},
	}, {
		name: "successor from a clock ahead, past the lead: dropped, a successor decided from now",
		now:  700,
		set:  []keys.Meta{aheadRetired, ahead},
		want: keys.Decision{Generate: true, Activates: h(724 + rh), Retire: "a", Retires: h(724 + rh), Drop: []string{"b"}},
	}, {
		name: "rotation of the pending successor from a clock ahead: dropped with the expired key",
		now:  800,
		set: []keys.Meta{
			meta("a", hours{retires: 720}),
			meta("b", hours{created: 696 - rh, activates: 720, retires: year + 24 + rh}),
			meta("c", hours{created: year, activates: year + 24 + rh}),
		},
		want: keys.Decision{Retire: "b", Retires: h(1440), Drop: []string{"a", "c"}},
	}, {
		name: "clock a few minutes ahead, successor on schedule: kept",
		now:  696,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696.1, activates: 720})},
	}, {
		name: "rotation started with a longer prepublish than this replica's: kept",
		now:  700,
		set:  []keys.Meta{meta("a", hours{retires: 800}), meta("b", hours{created: 700, activates: 800})},
	}, {
		name: "this replica's clock behind every key within the skew: nothing to judge",
		now:  -0.5 / 60,
		set:  []keys.Meta{aheadRetired, ahead},
	}, {
		name: "every key dated ahead (the one dated right dropped there): nothing to judge, this clock may be behind",
		now:  2,
		set:  []keys.Meta{ahead},
	}, {
		name: "every key dated ahead, several: nothing to judge",
		now:  2,
		set: []keys.Meta{
			meta("b", hours{created: year, activates: year + 24 + rh, retires: year + 720}),
			meta("c", hours{created: year + 696 - rh, activates: year + 720}),
		},
	}, {
		name: "this replica's clock behind every key by more than the skew: nothing to judge",
		now:  -100,
		set:  []keys.Meta{aheadRetired, ahead},
	}, {
		name: "unmaintained chain: the successor from a clock ahead dropped, the key retired now",
		now:  1,
		set: []keys.Meta{
			meta("es", hours{}),
			rs256("r", hours{retires: year + 24 + rh}),
			rs256("r2", hours{created: year, activates: year + 24 + rh}),
		},
		want: keys.Decision{Alg: keys.RS256, Retire: "r", Retires: h(1), Drop: []string{"r2"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys.Decide(h(tt.now), tt.set, policy)
			if !sameDecision(got, tt.want) || (tt.want.Alg != "" && got.Alg != tt.want.Alg) {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestManagerRotatesOnScheduleAfterForwardClockJump: one refresh of a replica whose clock is a
// year ahead (a bad NTP source, a clock read wrong at boot) saves a successor signing a year
// ahead; the replica with the right clock drops it at its next refresh, and the key rotates at
// its period, its successor published Prepublish before it signs on every replica.
func TestManagerRotatesOnScheduleAfterForwardClockJump(t *testing.T) {
	ctx := context.Background()
	b := keys.NewMemory()
	rightClk, aheadClk := fakeclock.New(t0), fakeclock.New(t0)
	right := newManager(t, keys.Config{Backend: b, Policy: policy, Now: rightClk.Now, TokenTTL: time.Hour})
	ahead := newManager(t, keys.Config{Backend: b, Policy: policy, Now: aheadClk.Now, TokenTTL: time.Hour})
	refresh(t, right)
	refresh(t, ahead)
	first := right.Snapshot().Signing.KID

	aheadClk.Set(h(year))
	refresh(t, ahead)
	rightClk.Set(h(1))
	refresh(t, right)
	set, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0].KID != first || !set.Keys[0].Retires.Equal(h(720)) {
		t.Errorf("at t0+1h the set is %v, want only %s retiring at t0+720h", metaKIDs(set.Metas()), first)
	}

	aheadClk.Set(h(1)) // corrected
	refresh(t, ahead)
	for _, at := range []float64{100, 696, 700, 730} {
		rightClk.Set(h(at))
		aheadClk.Set(h(at))
		refresh(t, right)
		refresh(t, ahead)
	}
	set, err = b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("at t0+730h the set is %v, want the first key and one successor", metaKIDs(set.Metas()))
	}
	for name, m := range map[string]*keys.Manager{"right": right, "ahead": ahead} {
		snap := m.Snapshot()
		next := snap.Signing
		if next.KID == first {
			t.Fatalf("%s: at t0+730h (period 720h) the first key still signs (retires %s)",
				name, next.Retires.Format(time.RFC3339))
		}
		if next.Activates.Sub(next.Created) < policy.Lead() || next.Created.After(h(700)) {
			t.Errorf("%s: successor created %s, signs from %s: want saved Lead before it signs, at the right time",
				name, next.Created.Sub(t0), next.Activates.Sub(t0))
		}
		if !slices.Contains(snapKIDs(snap.Published), first) {
			t.Errorf("%s: at t0+730h the first key left the JWKS %v within retain", name, snapKIDs(snap.Published))
		}
	}
}
