package catalog

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// recordingWriteBackLog is a WriteBackLog that keeps what it is given, notes whether the store
// held role "lost-role" when Before was called, and fails Before with failBefore.
type recordingWriteBackLog struct {
	t          *testing.T
	store      Store
	failBefore error
	// during, when set, runs in Before, after the store was read (another replica's change).
	during func()
	before []WriteBack
	// notCommitted keeps what NotCommitted was given.
	notCommitted    []WriteBack
	notCommittedErr []error
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
	if l.during != nil {
		l.during()
	}
	return l.failBefore
}

func (l *recordingWriteBackLog) NotCommitted(_ context.Context, wb WriteBack, err error) {
	l.notCommitted = append(l.notCommitted, wb)
	l.notCommittedErr = append(l.notCommittedErr, err)
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
	down := errors.New("trail down")
	log := &recordingWriteBackLog{t: t, store: store, failBefore: down}
	m, clock := loggedManager(t, store, log)
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
	want := []WrittenBack{{Ref: gone, Deleted: true, Version: 2, Space: config.RootSpace}, {Ref: lostRole, Version: 1, Space: config.RootSpace}}
	if !sameWrittenBack(wb.Changes, want) {
		t.Errorf("recorded changes %+v, want %+v", wb.Changes, want)
	}
	// The events are filed by the catalog once the changes are written back, as the admin API
	// files a change's event by the catalog after it.
	if wb.Index == nil {
		t.Error("the write-back names no catalog to file its events by")
	} else if _, ok := wb.Index.Role("lost-role"); !ok {
		t.Error("the catalog the write-back files its events by lacks role lost-role, which it writes back")
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
		if !slices.ContainsFunc(got, func(g WrittenBack) bool {
			return g.Ref == w.Ref && g.Deleted == w.Deleted && g.Version == w.Version && g.Space == w.Space &&
				g.Stack == w.Stack && slices.Equal(g.Also, w.Also)
		}) {
			return false
		}
	}
	return true
}

// loggedManager is a Manager of crossingFile on store, its clock a crossingClock at 1,000,000 ms,
// whose write-backs are recorded on log.
func loggedManager(t *testing.T, store *Memory, log *recordingWriteBackLog) (*Manager, *crossingClock) {
	t.Helper()
	clock := &crossingClock{}
	clock.ms.Store(1_000_000)
	m, err := NewManager(context.Background(), ManagerConfig{Store: store, File: crossingFile(),
		Now: clock.now, WriteBackLog: log})
	if err != nil {
		t.Fatal(err)
	}
	return m, clock
}

// lostToAStaleWriteBack is a Manager whose store went back and lost its role lost-role, with a
// log on which another replica commits role "other" while the first write-back is recorded, so
// that write-back goes stale. It returns the Manager, its store, the log and lost-role's Ref.
func lostToAStaleWriteBack(t *testing.T) (*Manager, *Memory, *recordingWriteBackLog, Ref) {
	t.Helper()
	store := NewMemory()
	log := &recordingWriteBackLog{t: t, store: store}
	m, clock := loggedManager(t, store, log)
	goBack := crossingSave(store)
	clock.ms.Add(10_000)
	lostRole := Ref{Kind: KindRole, ID: "lost-role"}
	crossingApply(t, m, Mutation{Ref: lostRole, Object: config.Role{ID: "lost-role", Actions: []string{config.ActionRunRead}}})
	goBack()
	log.during = otherReplicaCommits(t, log, store)
	return m, store, log, lostRole
}

// otherReplicaCommits is a WriteBackLog.during that, once, commits role "other" to store as
// another replica would.
func otherReplicaCommits(t *testing.T, log *recordingWriteBackLog, store Store) func() {
	return func() {
		log.during = nil
		ctx := context.Background()
		head, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		body, err := config.EncodeJSON(config.Role{ID: "other", Actions: []string{config.ActionRunRead}})
		if err != nil {
			t.Fatal(err)
		}
		other := Ref{Kind: KindRole, ID: "other"}
		if _, err := store.Commit(ctx, head, []Change{{Record: Record{Ref: other, Version: 1, Created: 1, Body: body}}}); err != nil {
			t.Fatalf("the other replica's commit: %v", err)
		}
	}
}

// TestWriteBackNotCommittedIsRecorded: a write-back recorded and then not committed, because
// another replica committed while it was being recorded, is followed by NotCommitted with
// ErrStale and the same changes, so the trail does not keep a success event for a change the
// store does not hold. Without a failed commit NotCommitted is not called.
func TestWriteBackNotCommittedIsRecorded(t *testing.T) {
	ctx := context.Background()
	m, store, log, lostRole := lostToAStaleWriteBack(t)
	other := Ref{Kind: KindRole, ID: "other"}
	if err := m.Refresh(ctx); err != nil {
		t.Fatalf("refresh whose write-back went stale: %v, want nil (the next refresh reads the store again)", err)
	}
	if len(log.before) != 1 || len(log.notCommitted) != 1 {
		t.Fatalf("Before called %d times and NotCommitted %d, want once each", len(log.before), len(log.notCommitted))
	}
	if !errors.Is(log.notCommittedErr[0], ErrStale) {
		t.Errorf("NotCommitted with %v, want ErrStale", log.notCommittedErr[0])
	}
	if !sameWrittenBack(log.notCommitted[0].Changes, log.before[0].Changes) {
		t.Errorf("NotCommitted names %+v, Before recorded %+v", log.notCommitted[0].Changes, log.before[0].Changes)
	}
	if storeHolds(t, store, lostRole) {
		t.Error("the stale write-back committed")
	}

	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if len(log.before) != 2 || len(log.notCommitted) != 1 {
		t.Errorf("after a write-back that committed: Before %d times, NotCommitted %d, want 2 and 1", len(log.before), len(log.notCommitted))
	}
	if !storeHolds(t, store, lostRole) || !storeHolds(t, store, other) {
		t.Error("the next refresh did not write lost-role back beside the other replica's role")
	}
}

// TestCurrentRefusesWhileAWriteBackWentStale: a read past MaxStale that found the store moved
// while it wrote lost changes back confirms nothing, so Current answers ErrUnavailable (a key
// another replica deleted is not taken on a catalog not found current), and nil once the next
// read writes them back.
func TestCurrentRefusesWhileAWriteBackWentStale(t *testing.T) {
	ctx := context.Background()
	m, _, log, _ := lostToAStaleWriteBack(t)
	time.Sleep(MaxStale + 50*time.Millisecond)
	if err := m.Current(ctx); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Current after a read whose write-back went stale = %v, want ErrUnavailable", err)
	}
	if len(log.notCommitted) != 1 {
		t.Fatalf("setup: NotCommitted called %d times, want once (the write-back went stale)", len(log.notCommitted))
	}
	if err := m.Current(ctx); err != nil {
		t.Errorf("Current once the lost change is written back = %v, want nil", err)
	}
}
