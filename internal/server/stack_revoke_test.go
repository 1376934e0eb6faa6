package server

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestDeletedStackRunsStayEnded: a run of a stack created through the API mints; once the stack
// is deleted its run token gets 401, and creating a stack with the same id again does not revive
// the old run, while a new run of the new stack mints.
func TestDeletedStackRunsStayEnded(t *testing.T) {
	ctx := context.Background()
	ts := startServer(t, serverOptions{})
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}
	create := func() {
		t.Helper()
		if _, err := ts.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "api-stack", Space: "prod"}}); err != nil {
			t.Fatal(err)
		}
	}
	create()
	old := ts.createRun(t, "api-stack", "TRACKED")
	if _, code := ts.mint(t, old.RunToken, ""); code != 200 {
		t.Fatalf("mint for a live stack's run: %d", code)
	}
	if _, err := ts.srv.catalog.Apply(ctx, catalog.Mutation{Ref: stack}); err != nil {
		t.Fatal(err)
	}
	if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
		t.Fatalf("mint for a deleted stack's run: %d, want 401", code)
	}
	create()
	if _, code := ts.mint(t, old.RunToken, ""); code != 401 {
		t.Fatalf("mint for the old run after the stack was created again: %d, want 401", code)
	}
	fresh := ts.createRun(t, "api-stack", "TRACKED")
	if _, code := ts.mint(t, fresh.RunToken, ""); code != 200 {
		t.Fatalf("mint for a run of the new stack: %d, want 200", code)
	}
}
