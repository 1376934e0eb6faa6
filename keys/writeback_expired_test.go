package keys_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/keys"
)

// probeHistStore is a compare-and-swap store that can fail over to a set it held before, at
// that set's own generation (a Redis replica that lost the later saves). It records every
// set saved.
type probeHistStore struct {
	mu    sync.Mutex
	set   keys.Set
	saved []keys.Set
	*keys.Memory
}

func (s *probeHistStore) Load(context.Context) (keys.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.Clone(), nil
}

func (s *probeHistStore) Save(_ context.Context, next keys.Set) error {
	if err := next.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set.Generation != next.Generation-1 {
		return keys.ErrConflict
	}
	s.set = next.Clone()
	s.saved = append(s.saved, next.Clone())
	return nil
}

func (s *probeHistStore) failover(to keys.Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set = to.Clone()
}

// TestWriteBackLeavesOutKeysExpiredBeforeStart: the store (Redis, WriteBack) fails over to a
// replica that lost the last saves. Replica D started after K1 expired and was dropped, so it
// never saw K1 leave. Its write-back keeps the stored set's keys another replica may have signed
// with, but not K1: an expired key neither signs nor is published, and saved back it would be
// recorded as published again.
// Guards against: wentback.go writeBackSet keeping every stored key that never left a set in
// force on the replica, expired ones included.
func TestWriteBackLeavesOutKeysExpiredBeforeStart(t *testing.T) {
	p := keys.Policy{Period: 6 * time.Hour, Prepublish: time.Hour, Retain: 2 * time.Hour, Alg: keys.ES256}
	clk := fakeclock.New(t0)
	store := &probeHistStore{Memory: keys.NewMemory()}
	a := newManager(t, keys.Config{Backend: store, Policy: p, Now: clk.Now, WriteBack: true})
	refresh(t, a)
	k1 := a.Snapshot().Signing.KID

	// Through one rotation; keep the set the store held once K1 had retired.
	var old keys.Set
	for range 6 * 60 {
		clk.Advance(time.Minute)
		refresh(t, a)
		if st := mustLoad(t, store); old.Generation == 0 && a.Snapshot().Signing.KID != k1 {
			old = st
		}
	}
	// Until K1 expired and was dropped.
	for range 4 * 60 {
		clk.Advance(time.Minute)
		refresh(t, a)
	}
	if _, ok := mustLoad(t, store).Find(k1); ok {
		t.Fatalf("setup: %s not dropped yet", k1)
	}
	if _, ok := old.Find(k1); !ok || old.Generation == 0 {
		t.Fatalf("setup: no older set holding %s", k1)
	}

	// D starts now: K1 left the store before it ran.
	var told []keys.Loaded
	d := newManager(t, keys.Config{Backend: store, Policy: p, Now: clk.Now, WriteBack: true,
		OnLoad: func(_ context.Context, l keys.Loaded) { told = append(told, l) }})
	refresh(t, d)
	before := len(store.saved)

	store.failover(old)
	clk.Advance(30 * time.Second)
	refresh(t, d)

	for _, s := range store.saved[before:] {
		if _, ok := s.Find(k1); ok {
			t.Errorf("D's write-back saved %s, an expired key dropped before D started, back to the store (generation %d, keys %v)",
				k1, s.Generation, snapKIDs(s.Keys))
		}
	}
	for _, l := range told {
		if slices.ContainsFunc(l.Published, func(m keys.Meta) bool { return m.KID == k1 }) {
			t.Errorf("D told the audit trail that %s was published (generation %d after %d), an expired key no JWKS serves", k1, l.Generation, l.From)
		}
	}
}
