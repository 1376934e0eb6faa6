package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// failingReloadLog is a ReloadLog whose Before fails with err.
type failingReloadLog struct {
	err          error
	notCommitted int
}

func (l *failingReloadLog) Before(context.Context, *Catalog) error { return l.err }

func (l *failingReloadLog) NotCommitted(context.Context, error) { l.notCommitted++ }

// TestReloadRefusedWhenNotRecorded pins that a reload whose record fails is refused with
// that error: nothing is committed and the catalog in force stays.
// Guards against: reload.go:reload ignores the error of log.Before
func TestReloadRefusedWhenNotRecorded(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	m := crossingManager(t, store, clock)
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reloaded := crossingFile()
	reloaded.Stacks = append(reloaded.Stacks, config.Stack{ID: "from-file", Space: "prod"})
	down := errors.New("trail down")
	log := &failingReloadLog{err: down}
	if _, err := m.ReloadLogged(ctx, reloaded, log); !errors.Is(err, down) {
		t.Fatalf("ReloadLogged with its record failing = %v, want %v", err, down)
	}
	if _, ok := m.Live().Load().Stack("from-file"); ok {
		t.Error("the reload whose record failed is in force")
	}
	if now, _ := store.Head(ctx); now != head {
		t.Errorf("store at %+v after a refused reload, was %+v", now, head)
	}
	if log.notCommitted != 0 {
		t.Errorf("NotCommitted called %d times for a reload never committed", log.notCommitted)
	}
}

// TestReloadWritesBackWhatTheStoreLost pins that a reload on a store that went back first
// writes back the changes this replica had in force and the store lost.
// Guards against: reload.go:reload skips writeBack
func TestReloadWritesBackWhatTheStoreLost(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	m := crossingManager(t, store, clock)
	goBack := crossingSave(store)
	clock.ms.Add(10_000)
	role := Ref{Kind: KindRole, ID: "lost-role"}
	crossingApply(t, m, Mutation{Ref: role,
		Object: config.Role{ID: "lost-role", Actions: []string{config.ActionRunRead}}})
	goBack() // the failover loses the role
	if _, err := m.Reload(ctx, crossingFile()); err != nil {
		t.Fatal(err)
	}
	if !storeHolds(t, store, role) {
		t.Error("role lost-role not written back by the reload")
	}
	if _, ok := m.Live().Load().Role("lost-role"); !ok {
		t.Error("role lost-role, in force before the store went back, left the catalog in force")
	}
}

// TestWriteBackAfterReloadNamesTheReloadedRevision pins that once a reload committed, a
// write-back to a store that went back names the revision of the reloaded catalog as the one
// this replica had in force.
// Guards against: reload.go:reload does not set m.head after its commit
func TestWriteBackAfterReloadNamesTheReloadedRevision(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	log := &recordingWriteBackLog{t: t, store: store}
	m, clock := loggedManager(t, store, log)
	goBack := crossingSave(store)
	clock.ms.Add(10_000)
	crossingApply(t, m, Mutation{Ref: Ref{Kind: KindRole, ID: "lost-role"},
		Object: config.Role{ID: "lost-role", Actions: []string{config.ActionRunRead}}})
	reloaded := crossingFile()
	reloaded.Stacks = append(reloaded.Stacks, config.Stack{ID: "from-file", Space: "prod"})
	c, err := m.Reload(ctx, reloaded)
	if err != nil {
		t.Fatal(err)
	}
	if head, _ := store.Head(ctx); c.Revision() != head.Revision {
		t.Fatalf("setup: the reload is at revision %d, the store at %d",
			c.Revision(), head.Revision)
	}
	goBack()
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if len(log.before) != 1 {
		t.Fatalf("Before called %d times, want once", len(log.before))
	}
	if had := log.before[0].Had; had != c.Revision() {
		t.Errorf("the write-back says this replica had revision %d, want the reload's %d",
			had, c.Revision())
	}
}

// TestReloadRecordsTheFileTemplates pins that a reload whose file gives a space a subject
// template the store does not record yet records it in the store with the reload.
// Guards against: reload.go:reload without templateRecords
func TestReloadRecordsTheFileTemplates(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	m := crossingManager(t, store, clock)
	const tpl = "probe:{callerId}:{scope}"
	withF := crossingFile()
	withF.Spaces = append(withF.Spaces, config.Space{ID: "f", Parent: "prod", SubjectTemplate: tpl})
	if _, err := m.Reload(ctx, withF); err != nil {
		t.Fatal(err)
	}
	snap, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api, _, err := decodeRecords(snap, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := heldTemplates(api)[tpl]; !ok {
		t.Errorf("the store does not record template %q the reloaded file gives space f", tpl)
	}
}

// TestLostChangesInRecordOrder pins that the changes lostChanges returns come in the
// records' order (by kind, then id), so that which lost changes fit, and the order they are
// recorded and committed in, does not depend on map order.
// Guards against: lost.go:lostChanges without SortRecords
func TestLostChangesInRecordOrder(t *testing.T) {
	have := Versioned{Versions: map[Ref]int64{}, Deleted: map[Ref]int64{}}
	for i := range 12 {
		for _, k := range []Kind{KindRole, KindStack, KindAPIKey} {
			r := Ref{Kind: k, ID: fmt.Sprintf("x%02d", i)}
			have.Versions[r], have.Deleted[r] = 2, 1000
		}
	}
	lost, err := lostChanges(have, Versioned{})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]Record, len(lost))
	for i, ch := range lost {
		recs[i] = ch.Record
	}
	sorted := slices.Clone(recs)
	SortRecords(sorted)
	for i := range recs {
		if recs[i].Ref != sorted[i].Ref {
			t.Fatalf("lost change %d is %s, want %s (the records' order)",
				i, recs[i].Ref, sorted[i].Ref)
		}
	}
}

// TestWriteBackKeepsChangesThatFitTogether pins that a lost change which fits the store
// only with a lost change written back before it (a stack in a space both created here) is
// written back with it.
// Guards against: lost.go:fitting tries each change alone, not over the ones kept
func TestWriteBackKeepsChangesThatFitTogether(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	a := crossingManager(t, store, clock)
	goBack := crossingSave(store)
	clock.ms.Add(10_000)
	space, stack := Ref{Kind: KindSpace, ID: "q"}, Ref{Kind: KindStack, ID: "w"}
	crossingApply(t, a, Mutation{Ref: space, Object: config.Space{ID: "q", Parent: "prod"}})
	crossingApply(t, a, Mutation{Ref: stack, Object: config.Stack{ID: "w", Space: "q"}})
	goBack() // the failover loses both
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if !storeHolds(t, store, space) || !storeHolds(t, store, stack) {
		t.Errorf("written back: space q %v, stack w %v; want both",
			storeHolds(t, store, space), storeHolds(t, store, stack))
	}
	if _, ok := a.Live().Load().Stack("w"); !ok {
		t.Error("stack w, in force before the store went back, left the catalog in force")
	}
}

// TestNothingToWriteBackRecordsNothing pins that when none of the lost changes fits what
// another replica did since, nothing is recorded as written back and nothing is committed.
// Guards against: lost.go:writeBack goes on when fitting keeps no change
func TestNothingToWriteBackRecordsNothing(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	log := &recordingWriteBackLog{t: t, store: store}
	a, clock := loggedManager(t, store, log)
	b := crossingManager(t, store, clock)
	space := Ref{Kind: KindSpace, ID: "p"}
	crossingApply(t, a, Mutation{Ref: space, Object: config.Space{ID: "p", Parent: "prod"}})
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	goBack := crossingSave(store)
	clock.ms.Add(10_000)
	crossingApply(t, a, Mutation{Ref: space})
	goBack() // the failover loses the deletion
	clock.ms.Add(10)
	crossingApply(t, b, Mutation{Ref: Ref{Kind: KindStack, ID: "t"},
		Object: config.Stack{ID: "t", Space: "p"}})
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if len(log.before) != 0 {
		t.Errorf("Before called %d times (%+v), want none: nothing is written back",
			len(log.before), log.before)
	}
	if now, _ := store.Head(ctx); now != head {
		t.Errorf("store at %+v after a refresh with nothing to write back, was %+v", now, head)
	}
}
