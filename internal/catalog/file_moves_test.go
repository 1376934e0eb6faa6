package catalog_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// teamsFile is file() with spaces team-a and team-b under root, x under team-a and y under
// team-b.
func teamsFile() catalog.Objects {
	f := file()
	f.Spaces = append(f.Spaces,
		config.Space{ID: "team-a", Parent: "root"}, config.Space{ID: "team-b", Parent: "root"},
		config.Space{ID: "x", Parent: "team-a"}, config.Space{ID: "y", Parent: "team-b"})
	return f
}

// movedIn is f with space id under parent.
func movedIn(f catalog.Objects, id, parent string) catalog.Objects {
	f.Spaces = slices.Clone(f.Spaces)
	for i := range f.Spaces {
		if f.Spaces[i].ID == id {
			f.Spaces[i].Parent = parent
		}
	}
	return f
}

// createThenDelete creates objs through m's API in order, then deletes them in reverse order.
func createThenDelete(t *testing.T, m *catalog.Manager, objs []any) {
	t.Helper()
	for _, obj := range objs {
		if err := putObject(t, m, obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, obj := range slices.Backward(objs) {
		ref, err := catalog.RefOf(obj)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Apply(context.Background(), catalog.Mutation{Ref: ref}); err != nil {
			t.Fatalf("delete %s: %v", ref, err)
		}
	}
}

// TestFileMovedSpaceForgetsDeletedIDs: a stack deleted through the API from a space that the
// configuration file then moves under another parent, on a reload or while no replica ran on
// the store, comes back only through the file, never through the API, as it does after a move
// made through the API: the space's id now names another line of administration, whose keys
// never had the deleted stack's access.
func TestFileMovedSpaceForgetsDeletedIDs(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"reload", "restart"} {
		t.Run(how, func(t *testing.T) {
			store := catalog.NewMemory()
			m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: teamsFile()})
			if err != nil {
				t.Fatal(err)
			}
			if err := putObject(t, m, config.Stack{ID: "old", Space: "x"}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "old"}}); err != nil {
				t.Fatal(err)
			}
			moved := movedIn(teamsFile(), "x", "team-b")
			if how == "reload" {
				_, err = m.Reload(ctx, moved)
			} else {
				m, err = catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: moved})
			}
			if err != nil {
				t.Fatal(err)
			}
			err = putObject(t, m, config.Stack{ID: "old", Space: "x"})
			if !errors.Is(err, catalog.ErrConflict) {
				t.Fatalf("stack %q given again through the API in a space the file moved = %v, want a conflict", "old", err)
			}
		})
	}
}

// TestFileMovedAncestorForgetsOnlyItsSubtree: a reload moving a file space forgets the places
// of the ids deleted anywhere below it (a stack in a space under it, a space under it), and
// nothing else: a stack deleted from a space outside the moved subtree may still be created
// again where it was, and a second reload on the same file records nothing more.
func TestFileMovedAncestorForgetsOnlyItsSubtree(t *testing.T) {
	ctx := context.Background()
	f := teamsFile()
	store := catalog.NewMemory()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: f})
	if err != nil {
		t.Fatal(err)
	}
	deleted := []any{
		config.Space{ID: "x-sub", Parent: "x"},
		config.Stack{ID: "in-x", Space: "x"},
		config.Stack{ID: "in-team-a", Space: "team-a"},
		config.Space{ID: "y-sub", Parent: "y"},
		config.Stack{ID: "in-y", Space: "y"},
	}
	createThenDelete(t, m, deleted)
	moved := movedIn(f, "team-a", "team-b")
	if _, err := m.Reload(ctx, moved); err != nil {
		t.Fatal(err)
	}
	before, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reload(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if after, err := store.Load(ctx); err != nil || after.Revision != before.Revision {
		t.Errorf("a second reload on the same file moved the store from revision %d to %d (%v)", before.Revision, after.Revision, err)
	}
	for _, obj := range deleted {
		ref, _ := catalog.RefOf(obj)
		err := putObject(t, m, obj)
		switch ref.ID {
		case "in-y", "y-sub":
			if err != nil {
				t.Errorf("%s, deleted outside the moved subtree, given again where it was: %v", ref, err)
			}
		default:
			if !errors.Is(err, catalog.ErrConflict) {
				t.Errorf("%s, deleted under the moved space, given again through the API = %v, want a conflict", ref, err)
			}
		}
	}
}

// TestDeletedSpaceKeepsItsStacksInTheMovedSubtree: a stack deleted from a space that was
// itself deleted later still lies, for a move, where that space lay. When a space above it
// moves (through the configuration file, or through the API), the stack's id no longer comes
// back through the API, also once the configuration file declares the deleted space again:
// that space's id now names another line of administration. A stack deleted likewise outside
// the moved subtree still comes back where it was.
func TestDeletedSpaceKeepsItsStacksInTheMovedSubtree(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"file", "api"} {
		t.Run(how, func(t *testing.T) {
			m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: teamsFile()})
			if err != nil {
				t.Fatal(err)
			}
			above := "team-a"
			if how == "api" {
				above = "api-team"
				if err := putObject(t, m, config.Space{ID: above, Parent: "root"}); err != nil {
					t.Fatal(err)
				}
			}
			gone := []any{config.Space{ID: "gone", Parent: above}, config.Stack{ID: "deep", Space: "gone"},
				config.Space{ID: "kept", Parent: "y"}, config.Stack{ID: "kept-deep", Space: "kept"}}
			createThenDelete(t, m, gone)
			if how == "api" {
				err = putObject(t, m, config.Space{ID: above, Parent: "team-b"})
			} else {
				_, err = m.Reload(ctx, movedIn(teamsFile(), above, "team-b"))
			}
			if err != nil {
				t.Fatalf("move %s: %v", above, err)
			}
			declared := movedIn(teamsFile(), "team-a", "team-b")
			declared.Spaces = append(declared.Spaces, config.Space{ID: "gone", Parent: "x"}, config.Space{ID: "kept", Parent: "y"})
			if _, err := m.Reload(ctx, declared); err != nil {
				t.Fatalf("declare the deleted space in the file: %v", err)
			}
			err = putObject(t, m, config.Stack{ID: "deep", Space: "gone"})
			if !errors.Is(err, catalog.ErrConflict) {
				t.Errorf("stack deleted from a deleted space under the moved %s, given again through the API = %v, want a conflict", above, err)
			}
			if err := putObject(t, m, config.Stack{ID: "kept-deep", Space: "kept"}); err != nil {
				t.Errorf("stack deleted from a deleted space outside the moved subtree, given again where it was: %v", err)
			}
		})
	}
}

// TestFileSpaceLeftOutForgetsDeletedIDs: a space the configuration file leaves out (on a
// reload, or while no replica ran on the store) leaves its place as a moved one does. Declared
// again, even where it stood, it is a new space: a stack deleted from it through the API
// before comes back only through the file.
func TestFileSpaceLeftOutForgetsDeletedIDs(t *testing.T) {
	ctx := context.Background()
	with := teamsFile()
	with.Spaces = append(with.Spaces, config.Space{ID: "z", Parent: "team-a"})
	for _, how := range []string{"reload", "restart"} {
		t.Run(how, func(t *testing.T) {
			store := catalog.NewMemory()
			m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with})
			if err != nil {
				t.Fatal(err)
			}
			if err := putObject(t, m, config.Stack{ID: "old", Space: "z"}); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "old"}}); err != nil {
				t.Fatal(err)
			}
			if how == "reload" {
				_, err = m.Reload(ctx, teamsFile())
			} else {
				_, err = catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: teamsFile()})
			}
			if err != nil {
				t.Fatalf("leave z out: %v", err)
			}
			if m, err = catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with}); err != nil {
				t.Fatalf("declare z again: %v", err)
			}
			err = putObject(t, m, config.Stack{ID: "old", Space: "z"})
			if !errors.Is(err, catalog.ErrConflict) {
				t.Fatalf("stack deleted from a space the file left out, given again through the API once the space is back = %v, want a conflict", err)
			}
		})
	}
}

// TestMoveForgetsPlacesUnderASpaceOfUnknownPlace: a stack deleted from a space whose own
// tombstone does not know its place (one recorded before tombstones kept it) may have lain
// under any space, so any move the file makes forgets the stack's place: it comes back only
// through the file, even once that space is declared again.
func TestMoveForgetsPlacesUnderASpaceOfUnknownPlace(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: teamsFile()})
	if err != nil {
		t.Fatal(err)
	}
	gone := []any{config.Space{ID: "legacy", Parent: "team-a"}, config.Stack{ID: "old", Space: "legacy"}}
	createThenDelete(t, m, gone)
	snap, err := store.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	legacy := catalog.Ref{Kind: catalog.KindSpace, ID: "legacy"}
	i := slices.IndexFunc(snap.Records, func(r catalog.Record) bool { return r.Ref == legacy })
	if i < 0 {
		t.Fatal("no tombstone of space legacy in the store")
	}
	old := snap.Records[i]
	old.Version, old.Body = old.Version+1, []byte{}
	if _, err := store.Commit(ctx, snap.Head(), []catalog.Change{{Record: old}}); err != nil {
		t.Fatal(err)
	}
	declared := movedIn(teamsFile(), "y", "team-a")
	if _, err := m.Reload(ctx, declared); err != nil {
		t.Fatalf("move y: %v", err)
	}
	declared.Spaces = append(declared.Spaces, config.Space{ID: "legacy", Parent: "team-a"})
	if _, err := m.Reload(ctx, declared); err != nil {
		t.Fatalf("declare legacy in the file: %v", err)
	}
	err = putObject(t, m, config.Stack{ID: "old", Space: "legacy"})
	if !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("stack deleted from a space of unknown place, given again through the API after a move = %v, want a conflict", err)
	}
}
