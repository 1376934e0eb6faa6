package catalog_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestIfMatchAnyOnMissingObjectCreatesNothing: a put asking only that the object exist
// (If-Match: *) of an object that does not exist is refused as a failed precondition and
// creates nothing.
// Guards against: apply.go:prepare `mu.IfMatch == AnyVersion && before == nil` check dropped
func TestIfMatchAnyOnMissingObjectCreatesNothing(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	st := config.Stack{ID: "fresh", Space: "prod"}
	_, err := m.Apply(context.Background(), catalog.Mutation{
		Ref: catalog.Ref{Kind: catalog.KindStack, ID: st.ID}, Object: st, IfMatch: catalog.AnyVersion})
	if !errors.Is(err, catalog.ErrPrecondition) {
		t.Fatalf("If-Match: * put of a missing stack = %v, want a failed precondition", err)
	}
	if _, ok := m.Live().Load().Stack(st.ID); ok {
		t.Error("the refused put created the stack")
	}
}

// TestCascadeDeletesOnlyStoredObjects: a deletion's cascade removes only the API objects
// that exist; a cascaded reference to nothing stored (an attachment already gone, or the
// file's) is not recorded as deleted and leaves no tombstone, so its id stays free.
// Guards against: apply.go:prepare cascade filter `api.find(r) != nil` dropped
func TestCascadeDeletesOnlyStoredObjects(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	for _, obj := range []any{
		config.Stack{ID: "app", Space: "prod"},
		config.Attachment{Stack: "app", Integration: "aws-root", Read: true},
	} {
		if err := putObject(t, m, obj); err != nil {
			t.Fatal(err)
		}
	}
	att := catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID("app", "aws-root")}
	ghost := catalog.Ref{Kind: catalog.KindStack, ID: "ghost"}
	res, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "app"},
		Cascade: func(*catalog.Catalog) []catalog.Ref { return []catalog.Ref{att, ghost} }})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(res.Deleted, ghost) || !slices.Contains(res.Deleted, att) || len(res.Deleted) != 2 {
		t.Errorf("Deleted = %v, want the stack and its attachment only", res.Deleted)
	}
	if err := putObject(t, m, config.Stack{ID: "ghost", Space: "prod"}); err != nil {
		t.Errorf("a stack id the cascade named but never existed cannot be created: %v", err)
	}
}

// TestDeletingAnObjectInUseNamesItsUser: deleting an object another object still refers
// to is a conflict that says the object is still in use and names the object referring to it,
// not the validation problem the deletion would leave behind.
// Guards against: apply.go:prepare deletion refusal built by classify instead of inUse
func TestDeletingAnObjectInUseNamesItsUser(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	for _, obj := range []any{
		awsIn("aws-team", "prod"),
		config.Attachment{Stack: "vpc", Integration: "aws-team", Write: true},
	} {
		if err := putObject(t, m, obj); err != nil {
			t.Fatal(err)
		}
	}
	_, err := m.Apply(context.Background(), catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "aws-team"}})
	if !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("deleting an attached integration = %v, want a conflict", err)
	}
	const want = `integration "aws-team" is still in use: attachment of "aws-team" to stack "vpc" refers to it`
	if err.Error() != want {
		t.Errorf("refusal = %q, want %q", err, want)
	}
}

// TestAuthorizeResultRefusesTheChange: a rule on what a change brings about (asked with the
// catalogs before and after it) refuses the change with its own error, and nothing is committed.
// Guards against: apply.go:prepare AuthorizeResult error ignored
func TestAuthorizeResultRefusesTheChange(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	denied := errors.New("probe: the result is not allowed")
	st := config.Stack{ID: "app", Space: "prod"}
	var sawAfter bool
	_, err := m.Apply(context.Background(), catalog.Mutation{
		Ref: catalog.Ref{Kind: catalog.KindStack, ID: st.ID}, Object: st,
		AuthorizeResult: func(o catalog.Outcome) error {
			_, inBefore := o.Before.Stack(st.ID)
			_, sawAfter = o.After.Stack(st.ID)
			if inBefore {
				t.Error("the catalog before the change already holds the stack")
			}
			return denied
		}})
	if !errors.Is(err, denied) {
		t.Fatalf("Apply = %v, want the rule's own error", err)
	}
	if !sawAfter {
		t.Error("the rule was not shown the catalog the change makes")
	}
	if _, ok := m.Live().Load().Stack(st.ID); ok {
		t.Error("the refused change is in force")
	}
}

// TestIfMatchNamingNoVersionMatchesNothing: an If-Match naming no version of the object (a
// weak entity tag, say) fails as a precondition, whether or not the object exists, and changes
// nothing.
// Guards against: apply.go:prepare `mu.IfMatch == NeverVersion` refusal dropped
func TestIfMatchNamingNoVersionMatchesNothing(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	if err := putObject(t, m, config.Stack{ID: "app", Space: "prod"}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []config.Stack{{ID: "app", Space: "prod-eu"}, {ID: "new", Space: "prod"}} {
		_, err := m.Apply(context.Background(), catalog.Mutation{
			Ref: catalog.Ref{Kind: catalog.KindStack, ID: st.ID}, Object: st, IfMatch: catalog.NeverVersion})
		if !errors.Is(err, catalog.ErrPrecondition) {
			t.Errorf("put of stack %q with an If-Match naming no version = %v, want a failed precondition", st.ID, err)
		}
		if got, ok := m.Live().Load().Stack(st.ID); ok && got.Space == st.Space {
			t.Errorf("the refused put of stack %q is in force", st.ID)
		}
	}
}
