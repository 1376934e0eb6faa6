package api

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
)

// failoverStore is a catalog store that can fail over to a replica that had received every
// commit up to a saved state and none after (Redis's asynchronous replication): restore puts
// the saved state back, revision and commit id included.
type failoverStore struct {
	mu      sync.Mutex
	rev     int64
	commit  string
	records map[catalog.Ref]catalog.Record
	before  func()
	saved   *failoverState
}

// failoverState is a saved state of a failoverStore.
type failoverState struct {
	rev     int64
	commit  string
	records map[catalog.Ref]catalog.Record
}

// newFailoverStore returns an empty failoverStore.
func newFailoverStore() *failoverStore {
	return &failoverStore{records: map[catalog.Ref]catalog.Record{}}
}

// Load implements catalog.Store.
func (s *failoverStore) Load(context.Context) (catalog.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := catalog.Snapshot{Revision: s.rev, Commit: s.commit}
	for _, r := range s.records {
		r.Body = slices.Clone(r.Body)
		snap.Records = append(snap.Records, r)
	}
	catalog.SortRecords(snap.Records)
	return snap, nil
}

// Head implements catalog.Store.
func (s *failoverStore) Head(context.Context) (catalog.Head, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return catalog.Head{Revision: s.rev, Commit: s.commit}, nil
}

// Commit implements catalog.Store, running before (once) first.
func (s *failoverStore) Commit(_ context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	s.mu.Lock()
	before := s.before
	s.before = nil
	s.mu.Unlock()
	if before != nil {
		before()
	}
	id, err := catalog.NewCommitID()
	if err != nil {
		return catalog.Head{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if at != (catalog.Head{Revision: s.rev, Commit: s.commit}) {
		return catalog.Head{}, catalog.ErrStale
	}
	for _, c := range changes {
		if c.Body == nil {
			delete(s.records, c.Ref)
			continue
		}
		c.Body = slices.Clone(c.Body)
		s.records[c.Ref] = c.Record
	}
	s.rev++
	s.commit = id
	return catalog.Head{Revision: s.rev, Commit: s.commit}, nil
}

// Notify implements catalog.Store: it never notifies (the tests refresh by hand).
func (s *failoverStore) Notify(ctx context.Context) <-chan struct{} {
	out := make(chan struct{})
	go func() { <-ctx.Done(); close(out) }()
	return out
}

// save keeps the store's state for failOver.
func (s *failoverStore) save() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = &failoverState{rev: s.rev, commit: s.commit, records: maps.Clone(s.records)}
}

// failOver puts the saved state back, revision and commit id included.
func (s *failoverStore) failOver() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev, s.commit, s.records = s.saved.rev, s.saved.commit, maps.Clone(s.saved.records)
}

// TestRefreshRecordWrittenBackAfterFailover: replica 2's refresh commits its pending record of W
// as the last change before the store fails over to a replica that had not received it. Replica
// 2 keeps that commit as its own (as an API change's), so its next refresh finds it lost and
// writes it back, and a key with space:admin alone on team-b may not attach W for read.
// Guards against: manager.go:recordWriters not noting its commit in m.api and m.head
func TestRefreshRecordWrittenBackAfterFailover(t *testing.T) {
	ctx := context.Background()
	st := newFailoverStore()
	r := newTwoReplicas(t, st, st)
	r.prepareReadIntoW(t)
	r.ruleLeavesDuringRecord(t, func(f func()) { st.mu.Lock(); st.before = f; st.mu.Unlock() })
	st.save()
	// Replica 2's next refresh (a poll) commits the pending record of W.
	r.refresh(t)
	if h, _ := st.Head(ctx); h.Revision != st.saved.rev+1 {
		t.Fatalf("replica 2's refresh committed nothing: store at %d, saved %d", h.Revision, st.saved.rev)
	}
	// The store fails over to a replica that had not received that commit.
	st.failOver()
	for _, m := range []*catalog.Manager{r.m1, r.m2} {
		if err := m.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w := r.do2("b-admin", "PUT", "/v1/stacks/rd/attachments/aws-w2", `{"read":true}`)
	if w.Code != http.StatusForbidden {
		t.Errorf("b-admin (space:admin only) attaching role w for read after a failover lost replica 2's record of it (replica 2 had fs attached to w for write): %d %s, want 403", w.Code, w.Body)
	}
}
