package catalog_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// errMayNotRepair is the refusal of an AuthorizeLeftOut that refuses.
var errMayNotRepair = errors.New("may not repair the store")

// TestAuthorizeLeftOut: Mutation.AuthorizeLeftOut is asked before a change replaces or deletes
// a stored object the catalog in force leaves out, its error returned as it is, and before a
// change brings a left-out object back into force, its error refusing the change with
// ErrConflict that names none of them (Withheld does). A change that does neither does not
// ask it. A refused change commits nothing.
func TestAuthorizeLeftOut(t *testing.T) {
	ghostRef := catalog.Ref{Kind: catalog.KindStack, ID: "ghost-web"}
	ghostSpace := catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "ghost"}, Object: config.Space{ID: "ghost", Parent: "prod"}}
	cases := []struct {
		name string
		mu   catalog.Mutation
		// refuses: AuthorizeLeftOut refuses; asked: it is asked.
		refuses, asked bool
		// refused is the refusal expected; nil: applied.
		refused error
	}{
		{name: "a left-out integration replaced, refused", mu: catalog.Mutation{Ref: longGCPRef, Object: gcpIn("g1", time.Hour)},
			refuses: true, asked: true, refused: errMayNotRepair},
		{name: "a left-out integration deleted, refused", mu: catalog.Mutation{Ref: badMountRef},
			refuses: true, asked: true, refused: errMayNotRepair},
		{name: "a left-out integration replaced, allowed", mu: catalog.Mutation{Ref: longGCPRef, Object: gcpIn("g1", time.Hour)},
			asked: true},
		{name: "a space bringing back a left-out stack, refused", mu: ghostSpace,
			refuses: true, asked: true, refused: catalog.ErrConflict},
		{name: "a space bringing back a left-out stack, allowed", mu: ghostSpace,
			asked: true},
		{name: "an unrelated role created", mu: catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindRole, ID: "reader"},
			Object: config.Role{ID: "reader", Actions: []string{config.ActionRunRead}}}, refuses: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := storedBeforeRules(t, config.Stack{ID: "ghost-web", Space: "ghost"})
			m := newManager(t, store)
			if _, ok := m.Live().Load().Stack(ghostRef.ID); ok {
				t.Fatal("the stack in a space that does not exist is in force")
			}
			before, err := store.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			asked := false
			tc.mu.AuthorizeLeftOut = func(*catalog.Catalog) error {
				asked = true
				if tc.refuses {
					return errMayNotRepair
				}
				return nil
			}
			_, err = m.Apply(ctx, tc.mu)
			switch {
			case tc.refused == nil && err != nil:
				t.Fatalf("Apply = %v", err)
			case tc.refused != nil && !errors.Is(err, tc.refused):
				t.Fatalf("Apply = %v, want %v", err, tc.refused)
			}
			if asked != tc.asked {
				t.Errorf("AuthorizeLeftOut asked: %v, want %v", asked, tc.asked)
			}
			if tc.refused != nil {
				if after, err := store.Head(ctx); err != nil || after != before {
					t.Errorf("the refused change moved the store from %+v to %+v (%v)", before, after, err)
				}
			}
			if tc.mu.Ref == ghostSpace.Ref {
				_, ok := m.Live().Load().Stack(ghostRef.ID)
				if ok != (tc.refused == nil) {
					t.Errorf("ghost-web in force: %v, want %v", ok, tc.refused == nil)
				}
				var ce *catalog.ChangeError
				if errors.As(err, &ce) && (strings.Contains(ce.Error(), "ghost-web") || !strings.Contains(strings.Join(ce.Withheld, ";"), `"ghost-web"`)) {
					t.Errorf("the refusal names the left-out stack, or withholds nothing: %v (withheld %q)", ce, ce.Withheld)
				}
			}
		})
	}
}
