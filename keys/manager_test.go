package keys_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func newManager(t *testing.T, cfg keys.Config) *keys.Manager {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	m, err := keys.NewManager(cfg)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return m
}

func refresh(t *testing.T, m *keys.Manager) bool {
	t.Helper()
	changed, err := m.Refresh(context.Background())
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return changed
}

func snapKIDs(ks []keys.Key) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.KID
	}
	return out
}

func TestNewManagerChecksConfig(t *testing.T) {
	if _, err := keys.NewManager(keys.Config{Policy: policy}); err == nil {
		t.Error("NewManager without backend succeeded")
	}
	bad := policy
	bad.Prepublish = bad.Period
	if _, err := keys.NewManager(keys.Config{Backend: keys.NewMemory(), Policy: bad}); !errors.Is(err, keys.ErrInvalidPolicy) {
		t.Errorf("NewManager with a bad policy = %v, want ErrInvalidPolicy", err)
	}
}

func TestManagerRefreshLifecycle(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
	if m.Snapshot() != nil {
		t.Fatal("Snapshot before the first Refresh is not nil")
	}
	steps := []struct {
		at        float64
		changed   bool
		published int
		newSigner bool
	}{
		{0, true, 1, true},              // bootstrap
		{1, false, 1, false},            // nothing happens
		{696, true, 2, false},           // successor prepublished, signs at 720h1m
		{700, false, 2, false},          // waiting
		{720, false, 2, false},          // still waiting: saved 24h1m before it signs
		{720 + rh, true, 2, true},       // successor signs
		{744 + rh, false, 2, false},     // predecessor retained, and lingering
		{744 + rh + lh, true, 1, false}, // predecessor expires
		{745, false, 1, false},          // steady
	}
	var lastSigner string
	for _, s := range steps {
		clk.Set(h(s.at))
		if got := refresh(t, m); got != s.changed {
			t.Errorf("%vh: changed = %v, want %v", s.at, got, s.changed)
		}
		snap := m.Snapshot()
		if len(snap.Published) != s.published {
			t.Errorf("%vh: %d published keys, want %d", s.at, len(snap.Published), s.published)
		}
		if (snap.Signing.KID != lastSigner) != s.newSigner {
			t.Errorf("%vh: signing key %s (was %s), want new=%v", s.at, snap.Signing.KID, lastSigner, s.newSigner)
		}
		lastSigner = snap.Signing.KID
		if !slices.Contains(snapKIDs(snap.Published), snap.Signing.KID) {
			t.Errorf("%vh: signing key not published", s.at)
		}
		keystest.SignAndVerify(t, keys.ES256, snap.Signing.Signer, snap.Signing.Public())
	}
	set, _ := b.Load(context.Background())
	if len(set.Keys) != 1 || set.Keys[0].KID != lastSigner {
		t.Errorf("backend holds %v, want only %s", kids(set), lastSigner)
	}
}

// Three replicas refresh concurrently at each rotation moment: exactly one new key is added and
// all replicas agree on the keys in force.
func TestManagersAgreeAtRotation(t *testing.T) {
	tests := map[string]func(t *testing.T) func() keys.Backend{
		"file": func(t *testing.T) func() keys.Backend {
			dir := filepath.Join(t.TempDir(), "keys")
			return func() keys.Backend { return keys.NewFile(dir) }
		},
		"memory": func(*testing.T) func() keys.Backend {
			b := keys.NewMemory()
			return func() keys.Backend { return b }
		},
	}
	for name, backends := range tests {
		t.Run(name, func(t *testing.T) {
			newBackend := backends(t)
			clk := fakeclock.New(t0)
			var changesMu sync.Mutex
			var changes []keys.Change // told to any replica: only the winner of each save is told
			onChange := func(_ context.Context, c keys.Change) {
				changesMu.Lock()
				defer changesMu.Unlock()
				changes = append(changes, c)
			}
			takeChanges := func() []keys.Change {
				changesMu.Lock()
				defer changesMu.Unlock()
				out := changes
				changes = nil
				return out
			}
			var ms []*keys.Manager
			for range 3 {
				ms = append(ms, newManager(t, keys.Config{Backend: newBackend(), Policy: policy, Now: clk.Now, OnChange: onChange}))
			}
			seen := map[string]bool{}
			addedKeys := func() int {
				set, err := newBackend().Load(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, k := range set.Keys {
					if !seen[k.KID] {
						seen[k.KID] = true
						n++
					}
				}
				return n
			}
			refreshAll := func(at time.Time) {
				t.Helper()
				clk.Set(at)
				start := make(chan struct{})
				errs := make(chan error, 2*len(ms))
				var wg sync.WaitGroup
				for _, m := range ms {
					for range 2 { // two goroutines per replica
						wg.Go(func() {
							<-start
							_, err := m.Refresh(context.Background())
							errs <- err
						})
					}
				}
				close(start)
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatalf("Refresh: %v", err)
					}
				}
				first := ms[0].Snapshot()
				for i, m := range ms[1:] {
					s := m.Snapshot()
					if s.Signing.KID != first.Signing.KID || s.Version != first.Version || s.Generation != first.Generation {
						t.Fatalf("replica %d: signing %s version %s generation %d; replica 0: %s %s %d",
							i+1, s.Signing.KID, s.Version, s.Generation, first.Signing.KID, first.Version, first.Generation)
					}
				}
			}

			refreshAll(t0) // bootstrap, concurrently too
			if n := addedKeys(); n != 1 {
				t.Fatalf("bootstrap added %d keys, want 1", n)
			}
			if c := takeChanges(); len(c) != 1 || c[0].NewKID != ms[0].Snapshot().Signing.KID || c[0].RetiredKID != "" {
				t.Fatalf("bootstrap changes %+v, want one naming the first key", c)
			}
			for round := range 3 {
				signing := ms[0].Snapshot().Signing
				rotateAt := signing.Activates.Add(policy.Period - policy.Lead())
				refreshAll(rotateAt)
				if n := addedKeys(); n != 1 {
					t.Fatalf("round %d: rotation added %d keys, want 1", round, n)
				}
				if c := takeChanges(); len(c) != 1 || c[0].NewKID == "" || c[0].RetiredKID != signing.KID || !c[0].Retires.Equal(c[0].Activates) {
					t.Fatalf("round %d: changes %+v, want exactly one retiring %s", round, c, signing.KID)
				}
				if got := ms[0].Snapshot().Signing.KID; got != signing.KID {
					t.Fatalf("round %d: signing key changed to %s before the successor's activation", round, got)
				}
				refreshAll(signing.Activates.Add(policy.Period))
				if got := ms[0].Snapshot().Signing.KID; got == signing.KID {
					t.Fatalf("round %d: successor does not sign at its activation", round)
				}
				if n := addedKeys(); n != 0 {
					t.Fatalf("round %d: activation added %d keys", round, n)
				}
			}
		})
	}
}

// On ErrConflict the manager takes the winner's set and does not generate again.
func TestManagerConflictTakesWinnersSet(t *testing.T) {
	clk := fakeclock.New(h(696))
	winner := keys.NewMemory()
	base := keystest.NewKey(t, keys.ES256, t0)
	theirs := keystest.NewKey(t, keys.ES256, h(696))
	theirs.Activates = h(720)
	base.Retires = h(720)
	winnersSet := keys.Set{Generation: 2, Keys: []keys.Key{base, theirs}}
	loads := 0
	b := &fakeBackend{
		load: func(context.Context) (keys.Set, error) {
			if loads++; loads == 1 {
				k := base
				k.Retires = time.Time{}
				return keys.Set{Generation: 1, Keys: []keys.Key{k}}, nil
			}
			return winnersSet, nil
		},
		save: func(ctx context.Context, s keys.Set) error {
			return errors.Join(winner.Save(ctx, winnersSet), keys.ErrConflict)
		},
	}
	var generated atomic.Int64
	gen := func(_ context.Context, alg string, now time.Time) (keys.Key, error) {
		generated.Add(1)
		return keys.Generate(alg, now)
	}
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now, Generate: gen})
	if !refresh(t, m) {
		t.Error("changed = false on the first snapshot")
	}
	snap := m.Snapshot()
	if snap.Generation != 2 || !slices.Equal(snapKIDs(snap.Published), []string{base.KID, theirs.KID}) {
		t.Errorf("snapshot = generation %d %v, want the winner's set", snap.Generation, snapKIDs(snap.Published))
	}
	if generated.Load() != 1 || loads != 2 {
		t.Errorf("generated %d keys in %d loads, want 1 and 2", generated.Load(), loads)
	}
}

func TestManagerErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		b    *fakeBackend
		gen  keys.GenerateFunc
	}{
		{"load fails", &fakeBackend{load: func(context.Context) (keys.Set, error) { return keys.Set{}, boom }}, nil},
		{"save fails", &fakeBackend{
			load: func(context.Context) (keys.Set, error) { return keys.Set{}, nil },
			save: func(context.Context, keys.Set) error { return boom },
		}, nil},
		{"generate fails", &fakeBackend{load: func(context.Context) (keys.Set, error) { return keys.Set{}, nil }},
			func(context.Context, string, time.Time) (keys.Key, error) { return keys.Key{}, boom }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, keys.Config{Backend: tt.b, Policy: policy, Now: fakeclock.New(t0).Now, Generate: tt.gen})
			if _, err := m.Refresh(context.Background()); !errors.Is(err, boom) {
				t.Errorf("Refresh = %v, want boom", err)
			}
			if m.Snapshot() != nil {
				t.Error("a failed Refresh set a snapshot")
			}
		})
	}
}

func TestManagerRotate(t *testing.T) {
	clk := fakeclock.New(t0)
	b := keys.NewMemory()
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: clk.Now})
	refresh(t, m)
	first := m.Snapshot().Signing
	clk.Set(h(100))
	if err := m.Rotate(context.Background()); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	snap := m.Snapshot()
	if snap.Signing.KID != first.KID || len(snap.Published) != 2 || !snap.Published[1].Activates.Equal(h(124+rh)) {
		t.Fatalf("after Rotate: signing %s, published %v", snap.Signing.KID, snapKIDs(snap.Published))
	}
	if err := m.Rotate(context.Background()); !errors.Is(err, keys.ErrRotationPending) {
		t.Errorf("second Rotate = %v, want ErrRotationPending", err)
	}
	clk.Set(h(124 + rh))
	refresh(t, m)
	if m.Snapshot().Signing.KID == first.KID {
		t.Error("rotated key does not sign after prepublish")
	}

	stale := keys.NewMemory()
	m2 := newManager(t, keys.Config{Backend: &fakeBackend{load: stale.Load, save: func(ctx context.Context, s keys.Set) error {
		return keys.ErrConflict
	}}, Policy: policy, Now: clk.Now})
	if err := m2.Rotate(context.Background()); !errors.Is(err, keys.ErrConflict) {
		t.Errorf("Rotate on a conflicting backend = %v, want ErrConflict", err)
	}
}

func TestManagerRunSurvivesErrorsAndPanics(t *testing.T) {
	mem := keys.NewMemory()
	calls := make(chan int64, 100)
	b := &fakeBackend{save: mem.Save}
	b.load = func(ctx context.Context) (keys.Set, error) {
		n := b.loads.Load()
		defer func() { calls <- n }()
		switch n {
		case 1:
			return keys.Set{}, errors.New("store down")
		case 2:
			panic("backend bug")
		}
		return mem.Load(ctx)
	}
	var logs syncbuf.Buffer
	m := newManager(t, keys.Config{Backend: b, Policy: policy, Now: fakeclock.New(t0).Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx, time.Millisecond)
	}()
	for n := range calls {
		if n >= 3 && m.Snapshot() != nil {
			break
		}
	}
	cancel()
	<-done
	for _, want := range []string{"store down", "backend bug"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not mention %q:\n%s", want, logs.String())
		}
	}
}
