package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// crossingFile is root, prod in it, a role and a key.
func crossingFile() Objects {
	sum := sha256.Sum256([]byte("ops-secret"))
	return Objects{
		Spaces: []config.Space{{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true}},
		Roles:  []config.Role{{ID: "admin", Actions: []string{config.ActionSpaceAdmin, config.ActionRunCreate}}},
		APIKeys: []config.APIKey{{ID: "ops", SecretSHA256: hex.EncodeToString(sum[:]),
			Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}},
	}
}

// crossingClock is a settable clock of Unix milliseconds.
type crossingClock struct{ ms atomic.Int64 }

func (c *crossingClock) now() time.Time { return time.UnixMilli(c.ms.Load()) }

func crossingManager(t *testing.T, s Store, clock *crossingClock) *Manager {
	t.Helper()
	m, err := NewManager(context.Background(), ManagerConfig{Store: s, File: crossingFile(), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// crossingSave returns a function that puts the memory store back as it is now: a failover to a
// replica that received no later write.
func crossingSave(m *Memory) func() {
	m.mu.Lock()
	rev, commit, recs := m.rev, m.commit, maps.Clone(m.records)
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		m.rev, m.commit, m.records = rev, commit, maps.Clone(recs)
		m.mu.Unlock()
	}
}

func crossingApply(t *testing.T, m *Manager, mu Mutation) Result {
	t.Helper()
	res, err := m.Apply(context.Background(), mu)
	if err != nil {
		t.Fatalf("apply %s: %v", mu.Ref, err)
	}
	return res
}

// crossingPair returns a memory store, a clock and two replicas on them, once replica a
// applied first and b heard of it.
func crossingPair(t *testing.T, first Mutation) (*Memory, *crossingClock, *Manager, *Manager) {
	t.Helper()
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	a := crossingManager(t, store, clock)
	b := crossingManager(t, store, clock)
	crossingApply(t, a, first)
	if err := b.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store, clock, a, b
}

// TestWriteBackLeavesNothingDangling: replica A deletes an empty space p; the store fails over
// and loses the deletion; replica B, which had not yet heard of it, creates a stack in p
// (answered 201). A does not write the deletion back, since the stack now stands in p: B's
// stack stays in force, and changes through the API go on, on both replicas.
func TestWriteBackLeavesNothingDangling(t *testing.T) {
	ctx := context.Background()
	store, clock, a, b := crossingPair(t, Mutation{Ref: Ref{KindSpace, "p"}, Object: config.Space{ID: "p", Parent: "prod"}})
	goBack := crossingSave(store)
	clock.ms.Add(10_000)
	crossingApply(t, a, Mutation{Ref: Ref{KindSpace, "p"}})
	goBack() // the failover loses the deletion
	clock.ms.Add(10)
	crossingApply(t, b, Mutation{Ref: Ref{KindStack, "t"}, Object: config.Stack{ID: "t", Space: "p"}})
	if err := a.Refresh(ctx); err != nil { // A writes back what it had
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Live().Load().Stack("t"); !ok {
		t.Errorf("B: stack t, answered 201 by B, is no longer in force after A's write-back")
	}
	// An unrelated change.
	if _, err := b.Apply(ctx, Mutation{Ref: Ref{KindRole, "viewer"}, Object: config.Role{ID: "viewer", Actions: []string{config.ActionRunRead}}}); err != nil {
		t.Errorf("B: an unrelated role PUT after the write-back: %v", err)
	}
	if _, err := a.Apply(ctx, Mutation{Ref: Ref{KindRole, "viewer2"}, Object: config.Role{ID: "viewer2", Actions: []string{config.ActionRunRead}}}); err != nil {
		t.Errorf("A: an unrelated role PUT after the write-back: %v", err)
	}
}

// TestWriteBackKeepsACrossedDeletion: replica A deletes stack s (its runs end: a run is in
// force only when created at or after its stack's Created); the store fails over and loses the
// deletion; replica B, which had not heard of it, replaces s (labels), taking it to the version
// of A's tombstone. A writes back B's stack as created SettleTime after the deletion, as a
// stack created again is: the runs the deletion ended stay ended on every replica.
func TestWriteBackKeepsACrossedDeletion(t *testing.T) {
	ctx := context.Background()
	store, clock, a, b := crossingPair(t, Mutation{Ref: Ref{KindStack, "s"}, Object: config.Stack{ID: "s", Space: "prod"}})
	runCreated := time.UnixMilli(clock.ms.Load() + 5_000) // a run of s, later ended by the deletion
	goBack := crossingSave(store)
	clock.ms.Add(10_000)
	deleted := clock.now()
	crossingApply(t, a, Mutation{Ref: Ref{KindStack, "s"}})
	goBack()
	clock.ms.Add(10)
	crossingApply(t, b, Mutation{Ref: Ref{KindStack, "s"}, Object: config.Stack{ID: "s", Space: "prod", Labels: []string{"x"}}})
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Manager{"A": a, "B": b} {
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		meta, ok := m.Live().Load().Meta(Ref{KindStack, "s"})
		if !ok {
			continue // deleted: the run stays ended
		}
		if runCreated.Before(meta.Created) {
			continue // counts as created after the run: it stays ended
		}
		t.Errorf("%s: stack s, deleted on A at %s, is in force with Created %s: a run created at %s (ended by the deletion) is in force again",
			name, deleted.UTC().Format(time.RFC3339), meta.Created.Format(time.RFC3339), runCreated.UTC().Format(time.RFC3339))
	}
}
