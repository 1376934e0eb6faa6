package keys_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// firstStart starts a manager on an empty memory backend at t0 and returns its clock, backend
// and manager, and the set in force its first Refresh saved (as the audit trail records it).
func firstStart(t *testing.T) (*fakeclock.Clock, *keys.Memory, *keys.Manager, keys.SetMeta) {
	t.Helper()
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	var saved []keys.Change
	first := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now,
		OnChange: func(_ context.Context, c keys.Change) { saved = append(saved, c) }})
	refresh(t, first)
	if len(saved) != 1 {
		t.Fatalf("first start saved %d changes, want 1", len(saved))
	}
	return clk, b, first, saved[0].InForce
}

// A key revoked while no replica ran: the replica started next compares the set it loads first
// with the set the audit trail last recorded (Config.Recorded) and tells OnLoad of the
// revocation; without a record, it tells of nothing.
func TestFirstLoadComparedWithRecorded(t *testing.T) {
	ctx := context.Background()
	clk, b, first, recorded := firstStart(t)
	inForce, err := first.InForce(ctx)
	if err != nil || inForce.Generation != recorded.Generation || len(inForce.Keys) != len(recorded.Keys) {
		t.Fatalf("InForce = %+v, %v; the change saved told %+v", inForce, err, recorded)
	}
	clk.Advance(policy.Prepublish)
	rev, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: first.Snapshot().Signing.KID, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name     string
		recorded *keys.SetMeta
		want     int
	}{
		{"record of the set before", &recorded, 1},
		{"no record", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var loaded []keys.Loaded
			m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now, Recorded: tc.recorded,
				OnLoad: func(_ context.Context, l keys.Loaded) { loaded = append(loaded, l) }})
			refresh(t, m)
			refresh(t, m) // compared once: the first load only
			if len(loaded) != tc.want {
				t.Fatalf("OnLoad told %+v, want %d changes", loaded, tc.want)
			}
			if tc.want == 0 {
				return
			}
			l := loaded[0]
			if len(l.Revoked) != 1 || l.Revoked[0] != rev.KID || l.From != recorded.Generation || l.Generation != recorded.Generation+1 {
				t.Errorf("OnLoad told %+v, want %s revoked from generation %d to the next", l, rev.KID, recorded.Generation)
			}
			if l.InForce.Generation != m.Snapshot().Generation {
				t.Errorf("Loaded.InForce is generation %d, the set in force %d", l.InForce.Generation, m.Snapshot().Generation)
			}
		})
	}
}

// The set the audit trail last recorded is compared with the first set loaded only, even when
// that first Refresh fails before anything is published (its save fails): the next Refresh does
// not tell OnLoad of the same change a second time.
// Guards against: recorded not cleared after the first load, loaded.go:Manager.noteLoaded
func TestRecordedComparedOnceEvenWhenFirstRefreshFails(t *testing.T) {
	ctx := context.Background()
	clk, b, first, recorded := firstStart(t)
	clk.Advance(policy.Prepublish)
	if _, err := keys.RevokeKey(ctx, keys.RevokeConfig{Backend: b, KID: first.Snapshot().Signing.KID, Now: clk.Now()}); err != nil {
		t.Fatal(err)
	}

	saves := 0
	failing := &fakeBackend{load: b.Load, save: func(ctx context.Context, s keys.Set) error {
		if saves++; saves == 1 {
			return errors.New("store refused the write")
		}
		return b.Save(ctx, s)
	}}
	withRSA := policy
	withRSA.Also = []string{keys.RS256} // the new chain makes the first Refresh save
	var loaded []keys.Loaded
	m := newManager(t, keys.Config{Backend: failing, Policy: withRSA, Now: clk.Now, Recorded: &recorded,
		OnLoad: func(_ context.Context, l keys.Loaded) { loaded = append(loaded, l) }})
	if _, err := m.Refresh(ctx); err == nil {
		t.Fatal("first Refresh succeeded, want the save error")
	}
	refresh(t, m)
	if len(loaded) != 1 {
		t.Fatalf("OnLoad told %d changes %+v, want the revocation once", len(loaded), loaded)
	}
}
