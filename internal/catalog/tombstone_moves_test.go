package catalog_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// reloadOrFail reloads m on f and fails the test on a refusal.
func reloadOrFail(t *testing.T, m *catalog.Manager, f catalog.Objects) {
	t.Helper()
	if _, err := m.Reload(context.Background(), f); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// withStackIn is f with stack id in space.
func withStackIn(f catalog.Objects, id, space string) catalog.Objects {
	f.Stacks = append(slices.Clone(f.Stacks), config.Stack{ID: id, Space: space})
	return f
}

// TestFileMoveKeepsLiveFileStackVersion: a file stack whose id an API stack held before
// (its tombstone in the store) stays the same object when the file moves its space: its
// version, its ETag, does not grow, as no tombstone is written over a live object's id.
// Guards against: forgetFileMoves forgetting the places of ids the new catalog holds (next.holds)
// Guards against: Catalog.holds never holding a stack
func TestFileMoveKeepsLiveFileStackVersion(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	createThenDelete(t, m, []any{config.Stack{ID: "s", Space: "prod-eu"}})
	declared := withStackIn(file(), "s", "prod-eu")
	reloadOrFail(t, m, declared)
	ref := catalog.Ref{Kind: catalog.KindStack, ID: "s"}
	before, _ := m.Live().Load().Meta(ref)
	reloadOrFail(t, m, movedIn(declared, "prod-eu", "root"))
	after, ok := m.Live().Load().Meta(ref)
	if !ok || after.Version != before.Version || after.ManagedBy != catalog.ManagedByConfig {
		t.Errorf("file stack s after its space moved: %+v (in force %v), want version %d as before",
			after, ok, before.Version)
	}
}

// TestForgottenPlaceKeepsDeletionTime: a tombstone whose place a space move forgets still
// keeps when its object was deleted: the file declaring the id again counts its object as created
// SettleTime after that deletion, also on a replica that starts on the store.
// Guards against: forgetting writing the tombstone with no deletion time (Created 0)
func TestForgottenPlaceKeepsDeletionTime(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := catalog.NewMemory()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	createThenDelete(t, m, []any{config.Stack{ID: "s", Space: "prod-eu"}})
	deleted := now
	now = now.Add(time.Hour)
	reloadOrFail(t, m, movedIn(file(), "prod-eu", "root"))
	now = now.Add(time.Hour)
	f := withStackIn(movedIn(file(), "prod-eu", "root"), "s", "prod")
	other, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: f, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := other.Live().Load().Meta(catalog.Ref{Kind: catalog.KindStack, ID: "s"})
	if want := deleted.Add(catalog.SettleTime); !meta.Created.Equal(want) {
		t.Errorf("file stack s, its id deleted through the API at %v, created %v; want %v",
			deleted, meta.Created, want)
	}
}

// askedReplica is the replica a test asks next.
type askedReplica = *catalog.Manager

// thenStep takes a store and its replica on to a later file, and returns the replica to ask.
type thenStep = func(t *testing.T, store catalog.Store, m *catalog.Manager) askedReplica

// TestFileStackLeavingAsItsSpaceMovesComesBackOnlyThroughFile: a file stack that leaves
// the file as its space moves under another parent comes back only through the file, never
// through the API, whether the two happen in two reloads, in one, or while no replica ran: the
// space's id now names another line of administration, whose keys never had the stack's access.
// Guards against: the stack's tombstone, written in the commit that moves its space, keeping
// the moved space as its place (in one reload, and at a restart)
func TestFileStackLeavingAsItsSpaceMovesComesBackOnlyThroughFile(t *testing.T) {
	moved := movedIn(file(), "prod-eu", "root")
	cases := []struct {
		name string
		// then takes the store, whose replica m runs on a file holding stack s in prod-eu, to
		// moved, and returns the replica to ask.
		then thenStep
	}{
		{"in two reloads", func(t *testing.T, _ catalog.Store, m *catalog.Manager) askedReplica {
			reloadOrFail(t, m, file())
			reloadOrFail(t, m, moved)
			return m
		}},
		{"in one reload", func(t *testing.T, _ catalog.Store, m *catalog.Manager) askedReplica {
			reloadOrFail(t, m, moved)
			return m
		}},
		{"at a restart", func(t *testing.T, store catalog.Store, _ *catalog.Manager) askedReplica {
			cfg := catalog.ManagerConfig{Store: store, File: moved}
			next, err := catalog.NewManager(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return next
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := catalog.NewMemory()
			m := newManager(t, store)
			reloadOrFail(t, m, withStackIn(file(), "s", "prod-eu"))
			asked := tc.then(t, store, m)
			err := putObject(t, asked, config.Stack{ID: "s", Space: "prod-eu"})
			if !errors.Is(err, catalog.ErrConflict) {
				t.Errorf("stack s given again through the API in its moved space = %v, "+
					"want a conflict", err)
			}
		})
	}
}

// TestForgottenPlaceRefusalPointsToFile: a stack id whose tombstone no longer knows its
// place (its space moved since) is refused through the API anywhere, the refusal pointing to the
// configuration file, the only way it comes back, and withholding nothing.
// Guards against: comesBack treating a tombstone without a place as one deleted from the place ""
func TestForgottenPlaceRefusalPointsToFile(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	createThenDelete(t, m, []any{config.Stack{ID: "s", Space: "prod-eu"}})
	reloadOrFail(t, m, movedIn(file(), "prod-eu", "root"))
	err := putObject(t, m, config.Stack{ID: "s", Space: "prod-eu"})
	var ce *catalog.ChangeError
	if !errors.As(err, &ce) || !errors.Is(err, catalog.ErrConflict) {
		t.Fatalf("stack s given again after its space moved = %v, want a conflict", err)
	}
	if !strings.Contains(ce.Error(), "configuration file") || len(ce.Withheld) != 0 {
		t.Errorf("refusal %q (withheld %q) does not point to the configuration file alone",
			ce, ce.Withheld)
	}
}

// TestLiveSpaceLiesWhereItStands: where a tombstone's place lies is looked up in the tree
// as it stands: a space the file declares again after its id was deleted through the API lies
// under its file parent, not the one its old tombstone names, so moving that old parent
// forgets nothing deleted from the space, whose deleted stack ids still come back there.
// Guards against: placesTree letting a deleted space's place override a live space's parent
func TestLiveSpaceLiesWhereItStands(t *testing.T) {
	m := newManager(t, catalog.NewMemory())
	q := config.Space{ID: "q", Parent: "prod"}
	if err := putObject(t, m, q); err != nil {
		t.Fatal(err)
	}
	createThenDelete(t, m, []any{config.Space{ID: "p", Parent: "q"}})
	f := file()
	f.Spaces = append(slices.Clone(f.Spaces), config.Space{ID: "p", Parent: "root"})
	reloadOrFail(t, m, f)
	createThenDelete(t, m, []any{config.Stack{ID: "t", Space: "p"}})
	q.Parent = "prod-eu"
	if err := putObject(t, m, q); err != nil {
		t.Fatal(err)
	}
	if err := putObject(t, m, config.Stack{ID: "t", Space: "p"}); err != nil {
		t.Errorf("stack t given again in space p, which did not move = %v, want applied", err)
	}
}
