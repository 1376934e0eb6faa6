package catalog

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestLostChangesEdges pins what lostChanges writes back at its edges: an object another replica
// moved without hearing of a lost deletion, whose new Created (a move counts SettleTime ahead) lies
// within SettleTime after the deletion, counts as created SettleTime after it, at the next version;
// and a record of the file as seen that the store holds one version behind is put back.
// Guards against: lostChanges compares Created with the deletion time, not with it plus SettleTime
// (lost.go:lostChanges)
// Guards against: lostChanges rewrites a crossed object at its stored version, not the next
// (lost.go:lostChanges)
// Guards against: lostChanges puts the seen record back only when the store's is two versions
// behind (lost.go:lostChanges)
func TestLostChangesEdges(t *testing.T) {
	stack := Ref{Kind: KindStack, ID: "s"}
	seen := seenOf(crossingFile())
	have := Versioned{
		Versions: map[Ref]int64{stack: 2},
		Deleted:  map[Ref]int64{stack: 10_000},
		seen:     &seen, seenVersion: 2, seenAt: 9_000,
	}
	now := Versioned{
		Objects:  Objects{Stacks: []config.Stack{{ID: "s", Space: "prod"}}},
		Versions: map[Ref]int64{stack: 3},
		Created:  map[Ref]int64{stack: 11_000},
		seen:     &seen, seenVersion: 1, seenAt: 5_000,
	}
	lost, err := lostChanges(have, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[Ref]Record{}
	for _, ch := range lost {
		got[ch.Ref] = ch.Record
	}
	if r, ok := got[stack]; !ok || r.Version != 4 || r.Created != 10_000+SettleTime.Milliseconds() {
		t.Errorf("the crossed stack written back as %+v (present %v), want version 4 created %d", r, ok, 10_000+SettleTime.Milliseconds())
	}
	if r, ok := got[seenRef]; !ok || r.Version != 2 || r.Created != 9_000 {
		t.Errorf("the record of the file as seen written back as %+v (present %v), want version 2", r, ok)
	}
}

// rewindStore is a store went back: the state saved, then a record put in it that this
// replica's file does not build with (a stack in a space nobody declares).
func rewindStore(t *testing.T, mem *Memory, saved func()) {
	t.Helper()
	saved()
	body, err := config.EncodeJSON(config.Stack{ID: "stray", Space: "nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	mem.mu.Lock()
	mem.records[Ref{Kind: KindStack, ID: "stray"}] = Record{Ref: Ref{Kind: KindStack, ID: "stray"}, Version: 1, Created: 1, Body: body}
	mem.mu.Unlock()
}

// TestWriteBackWhenTheStoreDoesNotBuild: a store that went back and lost the deletion of an API key
// gets the deletion written back even when the store's objects, as they are, do not build with this
// replica's file: the deleted key is not in force again on this replica (nor on one that loads the
// store).
// Guards against: fitting keeps none of the lost changes when the store does not build as it is
// (lost.go:Manager.fitting)
func TestWriteBackWhenTheStoreDoesNotBuild(t *testing.T) {
	ctx := context.Background()
	mem := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	a := crossingManager(t, mem, clock)
	key := Ref{Kind: KindAPIKey, ID: "ci"}
	sum := "abababababababababababababababababababababababababababababababab"
	crossingApply(t, a, Mutation{Ref: key, Object: config.APIKey{ID: "ci", SecretSHA256: sum,
		Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}})
	saved := crossingSave(mem)
	clock.ms.Add(1000)
	crossingApply(t, a, Mutation{Ref: key})
	rewindStore(t, mem, saved)
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Live().Load().APIKey("ci"); ok {
		t.Error("the deleted API key is in force again after the store went back")
	}
	b := crossingManager(t, mem, clock)
	if _, ok := b.Live().Load().APIKey("ci"); ok {
		t.Error("a replica loading the store has the deleted API key in force")
	}
}

// TestWrittenBackTombstoneKeepsItsPlace: a stack's deletion the store lost is written back
// with the place the stack left, so that its id still comes back through the API there.
// Guards against: lostChanges writes a tombstone back without its place (lost.go:lostChanges)
func TestWrittenBackTombstoneKeepsItsPlace(t *testing.T) {
	ctx := context.Background()
	mem := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	a := crossingManager(t, mem, clock)
	stack := Ref{Kind: KindStack, ID: "web"}
	crossingApply(t, a, Mutation{Ref: stack, Object: config.Stack{ID: "web", Space: "prod"}})
	saved := crossingSave(mem)
	clock.ms.Add(1000)
	crossingApply(t, a, Mutation{Ref: stack})
	saved()
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Live().Load().Stack("web"); ok {
		t.Fatal("the deleted stack is in force again after the store went back")
	}
	clock.ms.Add(10_000)
	if _, err := a.Apply(ctx, Mutation{Ref: stack, Object: config.Stack{ID: "web", Space: "prod"}}); err != nil {
		t.Errorf("the stack given again where it was deleted, after the write-back: %v, want created", err)
	}
}
