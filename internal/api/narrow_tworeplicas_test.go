package api

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
)

// TestWriteAttachmentOnlyAnotherReplicaHoldsIsRecorded: while a file is rolled out, replica 2's
// file holds stack fs (team-b) carrying label "wl"; replica 1's does not. An integration with an
// autoattach rule for write on "wl" created through replica 1 attaches fs for write to role W on
// replica 2 only; the rule is then dropped through replica 1. Replica 2 recorded W when its
// refresh put the attachment in force, so a key with space:admin alone on team-b attaching W for
// read to a team-b stack afterwards is refused, as on a single replica.
// Guards against: manager.go:Refresh not recording the identities its catalog attaches for write
func TestWriteAttachmentOnlyAnotherReplicaHoldsIsRecorded(t *testing.T) {
	store := catalog.NewMemory()
	r := newTwoReplicas(t, store, store)
	if w := r.do("boss", "PUT", "/v1/integrations/aws-w", awsWWithRule); w.Code != http.StatusCreated {
		t.Fatalf("rule for write: %d %s", w.Code, w.Body)
	}
	r.refresh(t)
	r.requireFSWritten(t)
	// The rule leaves through replica 1 (the root key drops it).
	if code := r.dropRule(); code != http.StatusOK {
		t.Fatalf("dropping the rule of aws-w: %d", code)
	}
	r.refresh(t)
	if w := r.readIntoW(t); w.Code != http.StatusForbidden {
		t.Errorf("b-admin (space:admin only) attaching role w, which fs in team-b was attached to for write, for read: %d %s, want 403", w.Code, w.Body)
	}
}
