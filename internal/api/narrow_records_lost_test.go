package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
)

// flakyCatalogStore is a catalog store whose next Commit fails once as the store being
// unavailable (a Redis timeout or failover), then works again.
type flakyCatalogStore struct {
	*catalog.Memory
	mu       sync.Mutex
	failNext bool
	// before, when set, runs once before the next Commit is passed on.
	before func()
}

func (s *flakyCatalogStore) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	s.mu.Lock()
	fail := s.failNext
	s.failNext = false
	before := s.before
	s.before = nil
	s.mu.Unlock()
	if before != nil {
		before()
	}
	if fail {
		return catalog.Head{}, fmt.Errorf("%w: probe: connection reset", catalog.ErrUnavailable)
	}
	return s.Memory.Commit(ctx, at, changes)
}

// TestRefreshRecordKeptAfterOneFailedCommit: as in
// TestWriteAttachmentOnlyAnotherReplicaHoldsIsRecorded, replica 2's file alone labels fs "wl", so
// a write rule created through replica 1 attaches fs for write to role W on replica 2 only.
// Replica 2's refresh puts that attachment in force, and its commit recording W fails once (a
// transient store error): the record stays pending and a later refresh (a poll, the store not
// moved) writes it, so the two-step narrowing is refused after the rule left.
// Guards against: manager.go:recordWriters dropping the records of a failed commit
// Guards against: manager.go:Refresh not retrying pending records while the store stands still
func TestRefreshRecordKeptAfterOneFailedCommit(t *testing.T) {
	mem := catalog.NewMemory()
	flaky := &flakyCatalogStore{Memory: mem}
	r := newTwoReplicas(t, mem, flaky)
	if w := r.do("boss", "PUT", "/v1/integrations/aws-w", awsWWithRule); w.Code != http.StatusCreated {
		t.Fatalf("rule for write: %d %s", w.Code, w.Body)
	}
	flaky.mu.Lock()
	flaky.failNext = true
	flaky.mu.Unlock()
	r.refresh(t)
	r.requireFSWritten(t)
	// Replica 2 keeps polling (Run refreshes at least every poll) while nothing changes.
	for range 3 {
		r.refresh(t)
	}
	// The rule leaves through replica 1.
	if code := r.dropRule(); code != http.StatusOK {
		t.Fatalf("dropping the rule of aws-w: %d", code)
	}
	r.refresh(t)
	if w := r.readIntoW(t); w.Code != http.StatusForbidden {
		t.Errorf("b-admin (space:admin only) attaching role w, which fs was attached to for write on replica 2, for read after one failed record commit: %d %s, want 403", w.Code, w.Body)
	}
}

// TestRefreshRecordKeptThroughAConcurrentChange: the same without any failure: another change
// (the rule leaving, through replica 1) lands between replica 2's load and its commit of the
// record; the record stays pending, and the next refresh, whose catalog no longer attaches W,
// still writes it (and the catalog going out of force is recorded as well as the new one).
// Guards against: manager.go:recordWriters dropping the records of a stale commit
func TestRefreshRecordKeptThroughAConcurrentChange(t *testing.T) {
	mem := catalog.NewMemory()
	flaky := &flakyCatalogStore{Memory: mem}
	r := newTwoReplicas(t, mem, flaky)
	if w := r.do("boss", "PUT", "/v1/integrations/aws-w", awsWWithRule); w.Code != http.StatusCreated {
		t.Fatalf("rule for write: %d %s", w.Code, w.Body)
	}
	var dropped int
	flaky.mu.Lock()
	flaky.before = func() { dropped = r.dropRule() }
	flaky.mu.Unlock()
	r.refresh(t)
	if dropped != http.StatusOK {
		t.Fatalf("dropping the rule through replica 1 during replica 2's record commit: %d", dropped)
	}
	r.requireFSWritten(t)
	r.refresh(t)
	if w := r.readIntoW(t); w.Code != http.StatusForbidden {
		t.Errorf("b-admin (space:admin only) attaching role w for read, after replica 2 had fs attached to it for write: %d %s, want 403", w.Code, w.Body)
	}
}
