package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestIfMatchOneOfNeverMatchesADeletedObject: an If-Match list naming the version a deleted
// object's tombstone keeps does not match (no object is there), as a single If-Match does not:
// the put is refused with ErrPrecondition and nothing is created.
func TestIfMatchOneOfNeverMatchesADeletedObject(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	ref := catalog.Ref{Kind: catalog.KindStack, ID: "again"}
	obj := config.Stack{ID: "again", Space: "prod"}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: ref, Object: obj}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: ref}); err != nil {
		t.Fatal(err)
	}
	// The tombstone keeps version 2; the list names it, and the version before.
	res, err := m.Apply(ctx, catalog.Mutation{Ref: ref, Object: obj, IfMatchOneOf: []int64{1, 2}})
	if !errors.Is(err, catalog.ErrPrecondition) {
		t.Fatalf("If-Match 1, 2 on a deleted object: %+v, %v; want ErrPrecondition", res, err)
	}
	if _, ok := m.Live().Load().Stack("again"); ok {
		t.Errorf("the refused put created the stack")
	}
}

// TestIfMatchOneOfOfOneVersion: a list of one version is a precondition too (IfMatchOneOf
// "when not empty"): a version other than the object's is refused, its own applies.
func TestIfMatchOneOfOfOneVersion(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	ref := catalog.Ref{Kind: catalog.KindStack, ID: "one"}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: ref, Object: config.Stack{ID: "one", Space: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: ref, Object: config.Stack{ID: "one", Space: "prod", Labels: []string{"x"}}, IfMatchOneOf: []int64{7}}); !errors.Is(err, catalog.ErrPrecondition) {
		t.Errorf("If-Match list [7] on version 1: %v, want ErrPrecondition", err)
	}
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: ref, IfMatchOneOf: []int64{7}}); !errors.Is(err, catalog.ErrPrecondition) {
		t.Errorf("delete with If-Match list [7] on version 1: %v, want ErrPrecondition", err)
	}
	if res, err := m.Apply(ctx, catalog.Mutation{Ref: ref, Object: config.Stack{ID: "one", Space: "prod", Labels: []string{"x"}}, IfMatchOneOf: []int64{1}}); err != nil || res.Version != 2 {
		t.Errorf("If-Match list [1] on version 1: %+v, %v; want version 2", res, err)
	}
}
