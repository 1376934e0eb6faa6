package keys_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

// TestSuccessorDatedAheadActivatingAtTheHorizonIsKept: a key saved by a replica whose
// clock ran ahead is re-decided only when it signs after the horizon of the key signing now;
// one whose Activates is exactly the horizon (max(now+Lead, Activates+Period) plus
// MaxClockSkew) is within the schedule and stays.
// Guards against: misdated comparing Activates with the horizon inclusively (!Before instead of
// After)
func TestSuccessorDatedAheadActivatingAtTheHorizonIsKept(t *testing.T) {
	now := h(100)
	hz := h(720).Add(keys.MaxClockSkew) // a.Activates+Period is past now+Lead
	a := meta("a", hours{created: -10, activates: 0})
	a.Retires = hz
	n := keys.Meta{KID: "n", Alg: keys.ES256, Created: now.Add(3 * time.Minute), Activates: hz}
	if d := keys.Decide(now, []keys.Meta{a, n}, policy); !d.Empty() {
		t.Errorf("Decide = %+v; want no change (successor activates at the horizon)", d)
	}
	n.Activates = hz.Add(time.Second)
	a.Retires = n.Activates
	if d := keys.Decide(now, []keys.Meta{a, n}, policy); len(d.Drop) != 1 || d.Drop[0] != "n" {
		t.Errorf("Decide = %+v; want n dropped (activates past the horizon)", d)
	}
}

// TestAlgorithmsSkipsUnsupportedEntries: Policy.Algorithms lists only the supported
// algorithms a policy keeps a chain of (Alg normalized first, then Also without repeats): an
// unsupported entry of Also never becomes a chain, so Decide never asks for a key without an
// algorithm.
// Guards against: Algorithms ignoring NormalizeAlg's error (an empty algorithm joins the list)
func TestAlgorithmsSkipsUnsupportedEntries(t *testing.T) {
	p := keys.Policy{Period: policy.Period, Alg: keys.ES256, Also: []string{"HS256", "RS256", ""}}
	if got, want := p.Algorithms(), []string{keys.ES256, keys.RS256}; !slices.Equal(got, want) {
		t.Errorf("Algorithms() = %q, want %q", got, want)
	}
}

// TestStartedKeyIsCreatedAtTheRotation: the key StartRotation saves is created at the
// rotation's instant and signs Lead after it, its predecessor retiring then. Replicas count a
// new key's hold-back and the old key's place in the JWKS from its Created (see signsUntil), so
// a Created earlier than the save would let replicas sign with it, and drop the old key, early.
// Guards against: StartRotation generating the new key at another instant than cfg.Now
func TestStartedKeyIsCreatedAtTheRotation(t *testing.T) {
	store := keys.NewMemory()
	old := keystest.NewKey(t, keys.ES256, t0)
	mustSave(t, store, 1, old)
	now := h(100)
	started, err := keys.StartRotation(context.Background(),
		keys.RotationConfig{Backend: store, Policy: policy, Now: now})
	if err != nil || len(started) != 1 {
		t.Fatalf("StartRotation = %v, %v; want one chain rotated", started, err)
	}
	set := mustLoad(t, store)
	n, ok := set.Find(started[0].KID)
	if !ok {
		t.Fatalf("new key %s not saved", started[0].KID)
	}
	if !n.Created.Equal(now) || !n.Activates.Equal(now.Add(policy.Lead())) {
		t.Errorf("new key created %v, activates %v; want %v and %v",
			n.Created, n.Activates, now, now.Add(policy.Lead()))
	}
	if o, _ := set.Find(old.KID); !o.Retires.Equal(n.Activates) {
		t.Errorf("old key retires %v, want %v", o.Retires, n.Activates)
	}
}

// TestWriteBackGivesUpAfterBoundedConflicts: when the store went back to an older set
// and every save of the set in force over it conflicts (other replicas keep saving first), a
// refresh gives up with ErrConflict after a few write-backs instead of hammering the store.
// Guards against: load's write-back bound raised (maxWriteBacks ignored)
func TestWriteBackGivesUpAfterBoundedConflicts(t *testing.T) {
	k := keystest.NewKey(t, keys.ES256, t0)
	var wentBack atomic.Bool
	var saves atomic.Int64
	b := &fakeBackend{
		load: func(context.Context) (keys.Set, error) {
			if wentBack.Load() {
				return keys.Set{Generation: 2, Keys: []keys.Key{k}}, nil
			}
			return keys.Set{Generation: 5, Keys: []keys.Key{k}}, nil
		},
		save: func(context.Context, keys.Set) error {
			saves.Add(1)
			return keys.ErrConflict
		},
	}
	now := t0.Add(time.Hour)
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: func() time.Time { return now },
		WriteBack: true})
	refresh(t, m)
	wentBack.Store(true)
	_, err := m.Refresh(context.Background())
	if !errors.Is(err, keys.ErrConflict) {
		t.Fatalf("Refresh = %v, want ErrConflict", err)
	}
	if n := saves.Load(); n < 1 || n > 3 {
		t.Errorf("Refresh tried %d write-backs, want 1 to 3", n)
	}
}

// TestStatesExpiredBeforeItWouldHaveSigned: a prepublished key retired before it ever
// signed (its algorithm was dropped from the policy) leaves the JWKS Linger plus Retain after
// its retirement; `broker keys list` then shows it expired, not pending, although its
// Activates is still ahead.
// Guards against: States testing "pending" before "expired"
func TestStatesExpiredBeforeItWouldHaveSigned(t *testing.T) {
	p := keys.Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: time.Hour,
		Alg: keys.RS256}
	rsa := keys.Meta{KID: "rsa", Alg: keys.RS256, Created: h(-10), Activates: h(-10)}
	es := keys.Meta{KID: "es", Alg: keys.ES256, Created: h(0), Activates: h(24 + rh), Retires: h(1)}
	got := keys.States(h(3), []keys.Meta{rsa, es}, p)
	if got[0] != keys.StateSigning || got[1] != keys.StateExpired {
		t.Errorf("States(3h) = %v, want [signing expired]", got)
	}
	if pub := keys.Published(h(3), []keys.Meta{rsa, es}, p); len(pub) != 1 {
		t.Errorf("Published(3h) = %v, want the RS256 key alone", metaKIDs(pub))
	}
}

// TestLateSuccessorKeepsOldKeyForTheFullLead: when a rotation dated its successor's
// Activates less than Lead after saving it (a CLI rotation with a shorter prepublish), the
// servers keep signing with the old key until the successor was saved Lead ago (Prepublish
// plus two refresh intervals), so the old key stays published Linger plus Retain after that
// instant, not after the successor's creation plus Prepublish alone.
// Guards against: signsUntil counting the hold-back as Prepublish instead of Lead
func TestLateSuccessorKeepsOldKeyForTheFullLead(t *testing.T) {
	set := []keys.Meta{
		meta("a", hours{created: -30, activates: 0, retires: 10}),
		meta("n", hours{created: 9, activates: 10}),
	}
	// n's creation plus Lead, then Linger and Retain
	gone := h(9).Add(policy.Lead() + policy.Linger() + policy.Retain)
	tests := []struct {
		now  time.Time
		want []string
	}{
		{gone.Add(-30 * time.Second), []string{"a", "n"}},
		{gone, []string{"n"}},
	}
	for _, tt := range tests {
		got := metaKIDs(keys.Published(tt.now, set, policy))
		if !slices.Equal(got, tt.want) {
			t.Errorf("Published(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

// TestMemoryHonoursCancelledContext: the memory backend, like the stored ones, fails a
// Load or Save whose context is already cancelled with the context's error, and a refused Save
// changes nothing.
// Guards against: Memory.Load ignoring a cancelled context
func TestMemoryHonoursCancelledContext(t *testing.T) {
	store := keys.NewMemory()
	mustSave(t, store, 1, keystest.NewKey(t, keys.ES256, t0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if set, err := store.Load(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled) = generation %d, %v; want context.Canceled", set.Generation, err)
	}
	next := keys.Set{Generation: 2, Keys: []keys.Key{keystest.NewKey(t, keys.ES256, t0)}}
	if err := store.Save(ctx, next); !errors.Is(err, context.Canceled) {
		t.Errorf("Save(cancelled) = %v; want context.Canceled", err)
	}
	if got := mustLoad(t, store); got.Generation != 1 {
		t.Errorf("after a cancelled Save, generation %d, want 1", got.Generation)
	}
}
