package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
)

// TestRecordingRefreshKeepsCatalogRevisionCurrent: replica 2's refresh commits its record of role
// w (its file alone attaches fs for write) and takes that commit as its own; the catalog in force
// (broker_catalog_revision) then stands at the store's revision, as replica 1's does, not one
// behind for good.
// Guards against: manager.go:recordWriters advancing the head without the catalog's revision
func TestRecordingRefreshKeepsCatalogRevisionCurrent(t *testing.T) {
	ctx := context.Background()
	mem := catalog.NewMemory()
	r := newTwoReplicas(t, mem, mem)
	if w := r.do("boss", "PUT", "/v1/integrations/aws-w", awsWWithRule); w.Code != http.StatusCreated {
		t.Fatalf("rule for write: %d %s", w.Code, w.Body)
	}
	r.refresh(t) // loads the rule, records w (commit lands)
	r.requireFSWritten(t)
	r.refresh(t)
	r.refresh(t)
	if err := r.m1.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	head, err := mem.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got2, got1 := r.m2.Live().Load().Revision(), r.m1.Live().Load().Revision()
	if got2 != head.Revision || got1 != got2 {
		t.Errorf("store at revision %d; replica 1's catalog in force at %d, replica 2's (after three refreshes) at %d", head.Revision, got1, got2)
	}
}
