package api

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
)

// TestPendingWriterRecordCountsForTheAPI: replica 2 put a write attachment of fs to role W in
// force, and its record of W is pending (its commit went stale because the rule left
// meanwhile). The next API request on replica 2 refreshes; the retry of the pending record hits
// one transient store error, and the API commit right after it succeeds. The change's
// authorization counts the records this replica holds pending, and its commit carries them: a
// key with space:admin alone may not attach W for read.
// Guards against: apply.go:prepare reading only the store's records for Outcome.Written
func TestPendingWriterRecordCountsForTheAPI(t *testing.T) {
	mem := catalog.NewMemory()
	flaky := &flakyCatalogStore{Memory: mem}
	r := newTwoReplicas(t, mem, flaky)
	r.prepareReadIntoW(t)
	r.ruleLeavesDuringRecord(t, func(f func()) { flaky.mu.Lock(); flaky.before = f; flaky.mu.Unlock() })
	// One transient store error: the pending record's retry, at the refresh the request makes.
	flaky.mu.Lock()
	flaky.failNext = true
	flaky.mu.Unlock()
	w := r.do2("b-admin", "PUT", "/v1/stacks/rd/attachments/aws-w2", `{"read":true}`)
	if w.Code != http.StatusForbidden {
		t.Errorf("b-admin (space:admin only) attaching role w for read through replica 2, which attached fs to w for write and holds its record pending: %d %s, want 403", w.Code, w.Body)
	}
}
