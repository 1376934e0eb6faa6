package catalog_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestMoveForgetsPlacesDeepInTheSubtree: a space moved through the API forgets the place
// of every tombstone at any depth of its subtree, not only a level or two down: a stack deleted
// from a space three levels below the moved one does not come back through the API there (its
// id would carry the cloud trust it had to another line of administration).
// Guards against: lyingUnder walks at most two steps up the tree (tombstone.go:lyingUnder)
func TestMoveForgetsPlacesDeepInTheSubtree(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	for _, obj := range []any{
		config.Space{ID: "team", Parent: "prod"},
		config.Space{ID: "team-eu", Parent: "team"},
		config.Space{ID: "team-eu-1", Parent: "team-eu"},
		config.Space{ID: "team-eu-1a", Parent: "team-eu-1"},
		config.Stack{ID: "old", Space: "team-eu-1a"},
	} {
		if err := putObject(t, m, obj); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, m, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "old"}})
	if err := putObject(t, m, config.Space{ID: "team", Parent: "root"}); err != nil {
		t.Fatal(err)
	}
	if err := putObject(t, m, config.Stack{ID: "old", Space: "team-eu-1a"}); !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("a stack given again three levels under a moved space = %v, want a conflict", err)
	}
	if _, ok := m.Live().Load().Stack("old"); ok {
		t.Error("the deleted stack's id came back through the API after a distant ancestor moved")
	}
}

// TestLeaveSeenLateCountsFromWhenThisReplicaSawIt: a replica that hears of another's
// deletion of a stack or a space only later (its own catalog kept the old object until then)
// counts the file object that takes the id again as created a millisecond after it heard of
// it, not when the deletion was committed, so that what it did with the old object meanwhile
// (a run started, an event recorded) stays the old object's. The memory of a stack's leaving
// lasts the run TTL, not only until the next change this replica puts in force.
// Guards against: Manager.put prunes ended entries younger than the run TTL (manager.go:put)
// Guards against: Manager.put notes a stack's leaving at now, not now+1 (manager.go:put)
// Guards against: Manager.put notes a space's leaving at now, not now+1 (manager.go:put)
func TestLeaveSeenLateCountsFromWhenThisReplicaSawIt(t *testing.T) {
	ctx := context.Background()
	deleted := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store := catalog.NewMemory()
	bNow, aNow := deleted.Add(-time.Minute), deleted.Add(-time.Minute)
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file(),
		Now: func() time.Time { return bNow }, RunTTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file(),
		Now: func() time.Time { return aNow }, RunTTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, b, spacePut(config.Space{ID: "gone-space", Parent: "prod"}))
	mustApply(t, b, stackPut(config.Stack{ID: "gone", Space: "prod"}))
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	bNow = deleted
	mustApply(t, b, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "gone"}})
	mustApply(t, b, spaceDelete("gone-space"))
	// a hears of both deletions 10s later, then puts an unrelated change in force.
	heard := deleted.Add(10 * time.Second)
	aNow = heard
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	aNow = heard.Add(time.Second)
	mustApply(t, a, stackPut(config.Stack{ID: "other", Space: "prod"}))
	aNow = heard.Add(2 * time.Second)
	declared := file()
	declared.Spaces = append(slices.Clone(declared.Spaces), config.Space{ID: "gone-space", Parent: "prod"})
	declared.Stacks = append(slices.Clone(declared.Stacks), config.Stack{ID: "gone", Space: "prod"})
	c, err := a.Reload(ctx, declared)
	if err != nil {
		t.Fatal(err)
	}
	want := heard.Add(time.Millisecond)
	if m, _ := c.Meta(catalog.Ref{Kind: catalog.KindStack, ID: "gone"}); !m.Created.Equal(want) {
		t.Errorf("the file's stack counts as created %v, want %v (when this replica heard of the deletion, plus 1ms)", m.Created, want)
	}
	if got := c.SpacePlaced("gone-space"); !got.Equal(want) {
		t.Errorf("the file's space counts as placed %v, want %v (when this replica heard of the deletion, plus 1ms)", got, want)
	}
}
