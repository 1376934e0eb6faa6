package catalog

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// recordingWriteBackLog is a WriteBackLog that keeps what it is given, notes whether the store
// held role "lost-role" when Before was called, and fails Before with failBefore.
type recordingWriteBackLog struct {
	t          *testing.T
	store      Store
	failBefore error
	before     []WriteBack
	// heldAtBefore says, for each call of Before, whether the store held role lost-role then.
	heldAtBefore []bool
}

func (l *recordingWriteBackLog) Before(ctx context.Context, wb WriteBack) error {
	snap, err := l.store.Load(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	held := slices.ContainsFunc(snap.Records, func(r Record) bool {
		_, tomb := readTombstone(r.Body)
		return r.Ref == Ref{Kind: KindRole, ID: "lost-role"} && !tomb
	})
	l.before = append(l.before, wb)
	l.heldAtBefore = append(l.heldAtBefore, held)
	return l.failBefore
}

// storeHolds reports whether s holds object r alive.
func storeHolds(t *testing.T, s Store, r Ref) bool {
	t.Helper()
	snap, err := s.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(snap.Records, func(rec Record) bool {
		_, tomb := readTombstone(rec.Body)
		return rec.Ref == r && !tomb
	})
}

// TestWriteBackRecordsBeforeCommit: security T4, an administration change is committed only
// after its event is recorded. A store that went back lost a put and a deletion this replica
// had in force; the replica records both, the put as a put and the tombstone as a deletion,
// before the store holds them again. When that record fails, nothing is written back, the
// catalog in force stays (the lost deletion with it) and the next refresh tries again.
func TestWriteBackRecordsBeforeCommit(t *testing.T) {
	ctx := context.Background()
	store := NewMemory()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	down := errors.New("trail down")
	log := &recordingWriteBackLog{t: t, store: store, failBefore: down}
	m, err := NewManager(ctx, ManagerConfig{Store: store, File: crossingFile(), Now: clock.now, WriteBackLog: log})
	if err != nil {
		t.Fatal(err)
	}
	lostRole, gone := Ref{Kind: KindRole, ID: "lost-role"}, Ref{Kind: KindRole, ID: "gone"}
	crossingApply(t, m, Mutation{Ref: gone, Object: config.Role{ID: "gone", Actions: []string{config.ActionRunRead}}})
	goBack := crossingSave(store)
	saved, _ := store.Head(ctx)
	clock.ms.Add(10_000)
	crossingApply(t, m, Mutation{Ref: lostRole, Object: config.Role{ID: "lost-role", Actions: []string{config.ActionRunRead}}})
	crossingApply(t, m, Mutation{Ref: gone})
	had := m.Live().Load().Revision()
	goBack() // the failover loses the put and the deletion

	if err := m.Refresh(ctx); !errors.Is(err, down) {
		t.Fatalf("refresh with the record failing: %v, want %v", err, down)
	}
	if now, _ := store.Head(ctx); now != saved {
		t.Errorf("the write-back whose record failed committed: store at %+v, was %+v", now, saved)
	}
	if storeHolds(t, store, lostRole) {
		t.Error("role lost-role written back although its record failed")
	}
	c := m.Live().Load()
	if _, ok := c.Role("lost-role"); !ok {
		t.Error("role lost-role left the catalog in force when its write-back could not be recorded")
	}
	if _, ok := c.Role("gone"); ok {
		t.Error("the lost deletion of role gone was undone on this replica when its write-back could not be recorded")
	}

	log.failBefore = nil
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if len(log.before) != 2 {
		t.Fatalf("Before called %d times, want twice (the failed record, then the one written back)", len(log.before))
	}
	if log.heldAtBefore[1] {
		t.Error("the store held role lost-role again before its write-back was recorded")
	}
	wb := log.before[1]
	want := []WrittenBack{{Ref: gone, Deleted: true, Version: 2}, {Ref: lostRole, Version: 1}}
	if !sameWrittenBack(wb.Changes, want) {
		t.Errorf("recorded changes %+v, want %+v", wb.Changes, want)
	}
	if wb.Revision != saved.Revision || wb.Had != had {
		t.Errorf("recorded revision %d (this replica had %d), want %d (had %d)", wb.Revision, wb.Had, saved.Revision, had)
	}
	if !storeHolds(t, store, lostRole) {
		t.Error("role lost-role not written back once recorded")
	}
}

// sameWrittenBack reports whether got and want hold the same changes, in any order.
func sameWrittenBack(got, want []WrittenBack) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}
