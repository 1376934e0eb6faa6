package catalog_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestAPIRefusesIDsAnotherReplicasFileDeclares: while a file is rolled out, a replica still on
// the old file may not create through the API an id the new file declares (as the store's
// record of the file as seen tells): the id would be the API's stack on one replica and the
// file's on the other, the trust policies written for the file's stack admitting the API's, and
// the old replica's reload onto the new file would fail. On the old code the stack was created.
// Once the last replica's file drops the id, it may be created in the place it left.
func TestAPIRefusesIDsAnotherReplicasFileDeclares(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	old := newManager(t, store)
	withStack := file()
	withStack.Stacks = append(slices.Clone(withStack.Stacks), config.Stack{ID: "newstack", Space: "prod"})
	newer, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withStack})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Apply(ctx, stackPut(config.Stack{ID: "newstack", Space: "prod-eu"})); !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("the old-file replica creating a stack the new file declares: %v, want a conflict", err)
	}
	if _, err := old.Apply(ctx, stackPut(config.Stack{ID: "other", Space: "prod-eu"})); err != nil {
		t.Fatalf("an id no file declares: %v", err)
	}
	if _, err := newer.Reload(ctx, file()); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Apply(ctx, stackPut(config.Stack{ID: "newstack", Space: "prod"})); err != nil {
		t.Fatalf("once no file declares it, in the place it left: %v", err)
	}
}
