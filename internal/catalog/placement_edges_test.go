package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestDeepSpaceMovedAtTheSameDepth: a store written before the depth limit may keep a space
// past config.MaxSpaceDepth where it is, but a space moved is placed anew and must fit the limit,
// even when its new place is exactly as deep as its old one.
func TestDeepSpaceMovedAtTheSameDepth(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	var spaces []config.Space
	parent := "root"
	for i := 1; i <= config.MaxSpaceDepth; i++ {
		spaces = append(spaces, config.Space{ID: fmt.Sprintf("s%d", i), Parent: parent})
		parent = fmt.Sprintf("s%d", i)
	}
	// x is MaxSpaceDepth deep (a sibling of s(MaxSpaceDepth-1)); y one deeper, past the limit.
	spaces = append(spaces,
		config.Space{ID: "x", Parent: fmt.Sprintf("s%d", config.MaxSpaceDepth-2)},
		config.Space{ID: "y", Parent: fmt.Sprintf("s%d", config.MaxSpaceDepth-1)})
	var changes []catalog.Change
	for _, sp := range spaces {
		body, err := config.EncodeJSON(sp)
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, catalog.Change{Record: catalog.Record{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: sp.ID}, Version: 1, Created: 1, Body: body}})
	}
	if _, err := store.Commit(ctx, catalog.Head{}, changes); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, store)
	c := m.Live().Load()
	if len(c.SpacePath("y")) != config.MaxSpaceDepth+1 || len(c.SpacePath("x")) != config.MaxSpaceDepth {
		t.Fatalf("paths y %v, x %v: the test proves nothing", c.SpacePath("y"), c.SpacePath("x"))
	}
	_, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "y"}, Object: config.Space{ID: "y", Parent: "x"}})
	if !errors.Is(err, catalog.ErrInvalid) || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("moving y, past the depth limit, to another place as deep: %v, want refused naming the depth", err)
	}
}

// TestDefaultTemplateTakesNoShare: the default subject template is recorded like any other,
// but counts against no subtree's share of recorded templates, wherever it was first recorded
// (here deep down, root having a template of its own): a subtree whose share is one still gets
// its one template of its own.
func TestDefaultTemplateTakesNoShare(t *testing.T) {
	f := file()
	f.Spaces = slices.Clone(f.Spaces)
	f.Spaces[0].SubjectTemplate = "org:{callerId}:{scope}" // root
	// A chain d1..d9 under root, listed deepest first: d9, the first space on the default, is
	// where the default is recorded. d9 lies 9 below root, where a subtree's share is 1.
	var chain []config.Space
	for i := 9; i >= 1; i-- {
		parent := "root"
		if i > 1 {
			parent = fmt.Sprintf("d%d", i-1)
		}
		chain = append(chain, config.Space{ID: fmt.Sprintf("d%d", i), Parent: parent})
	}
	f.Spaces = append([]config.Space{f.Spaces[0]}, append(chain, f.Spaces[1:]...)...)
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: catalog.NewMemory(), File: f})
	if err != nil {
		t.Fatal(err)
	}
	if share := catalog.HeldTemplateShare(9); share != 1 {
		t.Fatalf("share 9 below root = %d: the test proves nothing", share)
	}
	if _, err := m.Apply(context.Background(), spacePut(config.Space{ID: "n", Parent: "d9", SubjectTemplate: "team-n:{callerId}:{scope}"})); err != nil {
		t.Errorf("a subtree with its share unspent given a template of its own: %v", err)
	}
}

// TestHeldTemplateFromOlderRelease: a space template in force that the store does not
// record yet (another replica of a release that kept no such records put it) is recorded when
// a change takes it out of the catalog, so that no other space may then be given a template
// overlapping it: the trust policies printed for it may still be installed.
func TestHeldTemplateFromOlderRelease(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	m := managerBesideUnrecordedTemplate(t, store)
	// This replica gives a another template: heldOld leaves the catalog.
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldNewer}))
	for name, r := range map[string]*catalog.Manager{"this replica": m, "a replica starting": newManager(t, store)} {
		if _, err := r.Apply(ctx, spacePut(config.Space{ID: "b", Parent: "prod", SubjectTemplate: heldTaker})); !errors.Is(err, catalog.ErrInvalid) {
			t.Errorf("%s: a space given a template overlapping the one a held: %v, want refused", name, err)
		}
	}
}

// TestHeldTemplateFromOlderReleaseOwnSpace: nor may the space holding such a template take
// one that overlaps it: its stacks' trust policies name the subs of the old one.
func TestHeldTemplateFromOlderReleaseOwnSpace(t *testing.T) {
	m := managerBesideUnrecordedTemplate(t, catalog.NewMemory())
	if _, err := m.Apply(context.Background(), spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldTaker})); !errors.Is(err, catalog.ErrInvalid) {
		t.Errorf("space a taking a template overlapping the one it holds: %v, want refused", err)
	}
}

// managerBesideUnrecordedTemplate returns a manager on store in which an older replica, which
// wrote no records of templates, put space a with heldOld; the manager has it in force.
func managerBesideUnrecordedTemplate(t *testing.T, store catalog.Store) *catalog.Manager {
	t.Helper()
	ctx := context.Background()
	m := newManager(t, store)
	body, err := config.EncodeJSON(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld})
	if err != nil {
		t.Fatal(err)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Commit(ctx, head, []catalog.Change{{Record: catalog.Record{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "a"}, Version: 1, Created: 1, Body: body}}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if sp, ok := m.Live().Load().Space("a"); !ok || sp.SubjectTemplate != heldOld {
		t.Fatalf("space a not in force with its template: %+v %v", sp, ok)
	}
	return m
}

// TestVersionRaiseKeepsLeave: a file stack that left the file and came back counts as
// created SettleTime after it left, so the runs of its old place stay ended; a later change of
// the stack in the file (a version raise) keeps that time, also for a replica starting on the
// store afterwards.
func TestVersionRaiseKeepsLeave(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := catalog.NewMemory()
	with := func(labels ...string) catalog.Objects {
		f := file()
		f.Stacks = append(slices.Clone(f.Stacks), config.Stack{ID: "app", Space: "prod", Labels: labels})
		return f
	}
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with(), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	left := now
	if _, err := m.Reload(ctx, file()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := m.Reload(ctx, with()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := m.Reload(ctx, with("changed")); err != nil {
		t.Fatal(err)
	}
	restarted, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with("changed"), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	want := left.Add(catalog.SettleTime)
	meta, ok := restarted.Live().Load().Meta(catalog.Ref{Kind: catalog.KindStack, ID: "app"})
	if !ok || meta.Created.Before(want) {
		t.Errorf("a replica starting after the stack's change: app created %v (in force %v), want not before %v (it left at %v)", meta.Created, ok, want, left)
	}
}

// TestMaxStaleWithinTheRevocationBound: a key deleted on one replica must stop working on
// every replica within one second, also on a replica cut off from its store, which takes keys
// from the catalog it holds for MaxStale: so MaxStale may not exceed that second. The tests that
// exercise the cut-off replica wait relative to MaxStale and cannot notice it growing.
func TestMaxStaleWithinTheRevocationBound(t *testing.T) {
	if catalog.MaxStale <= 0 || catalog.MaxStale > time.Second {
		t.Fatalf("MaxStale = %v: a deleted key would keep working past one second on a replica cut off from the store", catalog.MaxStale)
	}
}

// TestSpacePlacedFollowsAMovedAncestor: a space counts as placed when it or any ancestor
// last took its place, the latest of those: once an ancestor moves, every space below it
// counts as placed with that move (so runs started under the old place stay ended), while a
// space created after the move keeps its own, later, time.
// Guards against: catalog.go:placedAt `p.After(t)` -> `t.After(p)`
func TestSpacePlacedFollowsAMovedAncestor(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000).UTC()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: file(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range []any{config.Space{ID: "team", Parent: "prod"}, config.Space{ID: "team-x", Parent: "team"}} {
		if err := putObject(t, m, obj); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Minute)
	if err := putObject(t, m, config.Space{ID: "team", Parent: "root"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if err := putObject(t, m, config.Space{ID: "team-late", Parent: "team"}); err != nil {
		t.Fatal(err)
	}
	c := m.Live().Load()
	moved := c.SpacePlaced("team")
	if want := now.Add(-time.Minute).Add(catalog.SettleTime); !moved.Equal(want) {
		t.Fatalf("SpacePlaced(team) = %v, want the move's time plus the settle time %v", moved, want)
	}
	if got := c.SpacePlaced("team-x"); !got.Equal(moved) {
		t.Errorf("SpacePlaced(team-x) = %v, want its moved parent's %v", got, moved)
	}
	if got := c.SpacePlaced("team-late"); !got.Equal(now) {
		t.Errorf("SpacePlaced(team-late) = %v, want its own creation %v", got, now)
	}
}

// TestFileObjectCountsCreatedAfterTheAPIObjectOfItsID: a file stack whose id the store also
// holds an API stack under (committed by a replica whose file lacks it, and left out here) counts
// as created when that API stack was, so runs that ended when the id left before stay ended.
// Guards against: catalog.go:Build file meta ignoring `in.API.Created[r]`
func TestFileObjectCountsCreatedAfterTheAPIObjectOfItsID(t *testing.T) {
	created := time.UnixMilli(1_800_000_000_000).UTC()
	vpc := catalog.Ref{Kind: catalog.KindStack, ID: "vpc"}
	c, err := catalog.Build(catalog.Input{File: file(), API: catalog.Versioned{
		Versions: map[catalog.Ref]int64{vpc: 3}, Created: map[catalog.Ref]int64{vpc: created.UnixMilli()}}})
	if err != nil {
		t.Fatal(err)
	}
	meta, ok := c.Meta(vpc)
	if !ok || meta.ManagedBy != catalog.ManagedByConfig || !meta.Created.Equal(created) {
		t.Errorf("Meta(stack vpc) = %+v, %v; want the file's, created %v", meta, ok, created)
	}
}

// TestWithinCountsTheSpaceItself: a space lies within itself and within each ancestor, not
// within a descendant, a sibling or an unknown space; an unknown space lies within nothing.
// Guards against: catalog.go:Within excluding the space itself
func TestWithinCountsTheSpaceItself(t *testing.T) {
	c, err := catalog.Build(catalog.Input{File: file()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		space, ancestor string
		want            bool
	}{
		{"prod", "prod", true},
		{"prod-eu", "prod", true},
		{"prod-eu", "root", true},
		{"prod", "prod-eu", false},
		{"prod", "nope", false},
		{"nope", "nope", false},
		{"nope", "root", false},
	} {
		if got := c.Within(tc.space, tc.ancestor); got != tc.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tc.space, tc.ancestor, got, tc.want)
		}
	}
}

// TestDeletedSpaceComesBackOnlyUnderItsParent: a space deleted through the API may be
// created again through the API under the parent it left, never under another parent, where its
// id would take the trust policies written for its old stacks to another line of administration.
// Guards against: tombstone.go:comesBack checking stacks only
// Guards against: tombstone.go:placeOf giving no place for a space
func TestDeletedSpaceComesBackOnlyUnderItsParent(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	for _, id := range []string{"gone", "gone-2"} {
		if err := putObject(t, m, config.Space{ID: id, Parent: "prod"}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: id}}); err != nil {
			t.Fatal(err)
		}
	}
	err := putObject(t, m, config.Space{ID: "gone", Parent: "root"})
	if !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("space given again under another parent = %v, want a conflict", err)
	}
	if err := putObject(t, m, config.Space{ID: "gone-2", Parent: "prod"}); err != nil {
		t.Errorf("space given again under the parent it left = %v, want it created", err)
	}
}
