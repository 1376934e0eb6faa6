package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/catalog/catalogtest"
	"github.com/brokerhq/broker/internal/config"
)

func newManager(t *testing.T, store catalog.Store) *catalog.Manager {
	t.Helper()
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: store, File: file()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestManagerContractOnMemory(t *testing.T) {
	catalogtest.RunManager(t, func(_ *testing.T, n int) []catalog.Store {
		m := catalog.NewMemory()
		out := make([]catalog.Store, n)
		for i := range out {
			out[i] = m
		}
		return out
	})
}

func TestManagerReload(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	if _, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "api-stack"}, Object: config.Stack{ID: "api-stack", Space: "prod"}}); err != nil {
		t.Fatal(err)
	}
	bad := file()
	bad.Stacks = append(bad.Stacks, config.Stack{ID: "api-stack", Space: "prod"})
	if _, err := m.Reload(ctx, bad); err == nil || !strings.Contains(err.Error(), `stack "api-stack"`) {
		t.Fatalf("a file colliding with an API object = %v", err)
	}
	good := file()
	good.Stacks = append(good.Stacks, config.Stack{ID: "from-file", Space: "prod"})
	if _, err := m.Reload(ctx, good); err != nil {
		t.Fatal(err)
	}
	c := m.Live().Load()
	if _, ok := c.Stack("from-file"); !ok {
		t.Error("the reloaded file's stack is not in force")
	}
	if _, ok := c.Stack("api-stack"); !ok {
		t.Error("the API's stack was lost by the reload")
	}
}

// BenchmarkApplyOneChange10k measures one API change (a stack replaced) on a catalog of 1,000
// spaces and 10,000 stacks: validation of every object, the rebuild and the commit (the goal
// is under 50 ms).
func BenchmarkApplyOneChange10k(b *testing.B) {
	ctx := context.Background()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: big(1000, 10000)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Apply(ctx, stackPut(config.Stack{ID: "api-stack", Space: "s1"})); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		labels := []string{fmt.Sprintf("l%d", i%2)}
		if _, err := m.Apply(ctx, stackPut(config.Stack{ID: "api-stack", Space: "s1", Labels: labels})); err != nil {
			b.Fatal(err)
		}
	}
}

// stackPut is the mutation that puts st.
func stackPut(st config.Stack) catalog.Mutation {
	return catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: st.ID}, Object: st}
}

// TestAuthorizeSeesTheCatalogOfTheCommit: a replica that has not yet heard of another's change
// asks Authorize with the refreshed catalog, the one its change is validated and committed on,
// and a refusal there changes nothing.
func TestAuthorizeSeesTheCatalogOfTheCommit(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a, b := newManager(t, store), newManager(t, store)
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "moving"}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "moving", Space: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// a moves the stack to prod-eu; b has not refreshed and still sees it in prod.
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "moving", Space: "prod-eu"}}); err != nil {
		t.Fatal(err)
	}
	if sp, _ := b.Live().Load().StackSpace("moving"); sp != "prod" {
		t.Fatalf("b already sees the move (space %q): the test proves nothing", sp)
	}
	refused := errors.New("no admin rights in prod-eu")
	var seen string
	_, err := b.Apply(ctx, catalog.Mutation{Ref: stack, Object: config.Stack{ID: "moving", Space: "prod", Labels: []string{"x"}},
		Authorize: func(c *catalog.Catalog) error {
			seen, _ = c.StackSpace("moving")
			if seen != "prod" {
				return refused
			}
			return nil
		}})
	if !errors.Is(err, refused) || seen != "prod-eu" {
		t.Fatalf("Apply = %v after Authorize saw space %q; want the refusal, having seen prod-eu", err, seen)
	}
	if st, _ := b.Live().Load().Stack("moving"); st.Space != "prod-eu" || len(st.Labels) != 0 {
		t.Errorf("the refused change was applied: %+v", st)
	}
}

// heldCommits is a Store whose next Commit signals entered and waits for release.
type heldCommits struct {
	catalog.Store
	entered, release chan struct{}
}

func (h *heldCommits) Commit(ctx context.Context, at catalog.Head, changes []catalog.Change) (catalog.Head, error) {
	if h.entered != nil {
		close(h.entered)
		h.entered = nil
		<-h.release
	}
	return h.Store.Commit(ctx, at, changes)
}

// TestReloadDuringAChange: a file reloaded while a change of this replica is being committed
// stays in force once the change is in, and the change too: the change's catalog, built on
// the old file, never replaces the reloaded one.
func TestReloadDuringAChange(t *testing.T) {
	ctx := context.Background()
	held := &heldCommits{Store: catalog.NewMemory()}
	m := newManager(t, held) // its start records the file in the store: not held
	held.entered, held.release = make(chan struct{}), make(chan struct{})
	entered := held.entered
	applied := make(chan error, 1)
	go func() {
		_, err := m.Apply(ctx, stackPut(config.Stack{ID: "api-stack", Space: "prod"}))
		applied <- err
	}()
	<-entered
	reloaded := file()
	reloaded.Stacks = append(reloaded.Stacks, config.Stack{ID: "from-file", Space: "prod"})
	done := make(chan error, 1)
	go func() { _, err := m.Reload(ctx, reloaded); done <- err }()
	var reloadErr error
	returned := false
	select {
	case reloadErr = <-done: // a Reload that does not wait for the change must still win
		returned = true
	case <-time.After(100 * time.Millisecond):
	}
	close(held.release)
	if err := <-applied; err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !returned {
		select {
		case reloadErr = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Reload did not return once the change was in")
		}
	}
	if reloadErr != nil {
		t.Fatalf("Reload: %v", reloadErr)
	}
	c := m.Live().Load()
	if _, ok := c.Stack("from-file"); !ok {
		t.Error("the reloaded file's stack is not in force after the change")
	}
	if _, ok := c.Stack("api-stack"); !ok {
		t.Error("the change is not in force after the reload")
	}
}

// TestStackPlacedAgainStartsAgain: a stack's runs belong to its place (see Meta.Created), so a
// stack that comes back to a place counts as created when it left it: moved away and back
// through the API (SettleTime after it moved back, a time the store keeps for every replica), or
// declared in the file after it was deleted through the API, removed from the file by one
// reload or moved in it (created when this replica saw it leave). A file stack that stays
// where it is keeps its time across reloads, and one that never left has none.
func TestStackPlacedAgainStartsAgain(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: file(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	created := func(id string) time.Time {
		meta, ok := m.Live().Load().Meta(catalog.Ref{Kind: catalog.KindStack, ID: id})
		if !ok {
			t.Fatalf("stack %s is not in force", id)
		}
		return meta.Created
	}
	step := func(what string, f func() error) time.Time {
		t.Helper()
		now = now.Add(time.Minute)
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return now
	}
	put := func(space string) func() error {
		return func() error { _, err := m.Apply(ctx, stackPut(config.Stack{ID: "moving", Space: space})); return err }
	}
	reload := func(stacks ...config.Stack) func() error {
		f := file()
		f.Stacks = append(f.Stacks, stacks...)
		return func() error { _, err := m.Reload(ctx, f); return err }
	}
	want := func(what string, at time.Time) {
		t.Helper()
		if got := created("moving"); !got.Equal(at) {
			t.Errorf("%s: created %v, want %v", what, got, at)
		}
	}
	at := step("create", put("prod"))
	want("created", at)
	step("replace in place", put("prod"))
	want("replaced in place", at)
	step("move away", put("prod-eu"))
	back := step("move back", put("prod"))
	// From SettleTime after the move: runs other replicas start in the old place until then
	// are not the moved stack's.
	want("moved away and back", back.Add(catalog.SettleTime))
	deleted := step("delete", func() error {
		_, err := m.Apply(ctx, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "moving"}})
		return err
	})
	inProd, inEU := config.Stack{ID: "moving", Space: "prod"}, config.Stack{ID: "moving", Space: "prod-eu"}
	step("declare in the file", reload(inProd))
	// From SettleTime after the deletion, which the store's tombstone keeps.
	want("declared in the file after its deletion", deleted.Add(catalog.SettleTime))
	step("reload the same file", reload(inProd))
	want("a file stack kept in place", deleted.Add(catalog.SettleTime))
	if got := created("vpc"); !got.IsZero() {
		t.Errorf("a stack in the file since start-up: created %v, want zero", got)
	}
	// Leaving the file is recorded in the store as a deletion is, and counted the same way:
	// from SettleTime after it left, since other replicas may still serve the old file's stack.
	removed := step("remove from the file", reload())
	step("restore in the file", reload(inProd))
	want("removed from the file and restored", removed.Add(catalog.SettleTime))
	step("move in the file", reload(inEU))
	back = step("move back in the file", reload(inProd))
	want("moved in the file and back", back.Add(catalog.SettleTime))
}

// TestStackLeavingKeptAfterTheRunTTL: a stack that left the file, like one deleted through the
// API, has its leaving kept by the store's tombstone: a stack declared later under its id
// counts as created SettleTime after it left, also once the longest run has expired (when no
// run can come back anyway).
func TestStackLeavingKeptAfterTheRunTTL(t *testing.T) {
	ctx := context.Background()
	deleted := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ref := catalog.Ref{Kind: catalog.KindStack, ID: "gone"}
	declared := file()
	declared.Stacks = append(declared.Stacks, config.Stack{ID: "gone", Space: "prod"})
	for _, s := range []struct {
		name  string
		after time.Duration
		want  time.Time
	}{
		{"removed from the file", 9 * time.Minute, deleted.Add(catalog.SettleTime)},
		{"removed from the file", 11 * time.Minute, deleted.Add(catalog.SettleTime)},
		{"deleted through the API", 9 * time.Minute, deleted.Add(catalog.SettleTime)},
		{"deleted through the API", 11 * time.Minute, deleted.Add(catalog.SettleTime)},
	} {
		now := deleted.Add(-time.Minute)
		m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(), File: file(),
			Now: func() time.Time { return now }, RunTTL: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if s.name == "removed from the file" {
			_, err = m.Reload(ctx, declared)
		} else {
			_, err = m.Apply(ctx, stackPut(config.Stack{ID: "gone", Space: "prod"}))
		}
		if err != nil {
			t.Fatal(err)
		}
		now = deleted
		if s.name == "removed from the file" {
			_, err = m.Reload(ctx, file())
		} else {
			_, err = m.Apply(ctx, catalog.Mutation{Ref: ref})
		}
		if err != nil {
			t.Fatal(err)
		}
		now = deleted.Add(s.after)
		if _, err := m.Reload(ctx, declared); err != nil {
			t.Fatal(err)
		}
		if meta, _ := m.Live().Load().Meta(ref); !meta.Created.Equal(s.want) {
			t.Errorf("%s, declared %v later: created %v, want %v", s.name, s.after, meta.Created, s.want)
		}
	}
}

// TestCollisionFromAnotherReplica: replica a reloads a file declaring stack "x" while replica b,
// which has not reloaded, creates "x" through the API. Replica a does not freeze on its last
// catalog: the file's object wins, the API's is left out (and logged), and every other change
// of the store, such as an API key deleted on b, is in force on a. A replica started on that
// store and file starts.
func TestCollisionFromAnotherReplica(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a, b := newManager(t, store), newManager(t, store)
	key := catalog.Ref{Kind: catalog.KindAPIKey, ID: "api-key"}
	if _, err := b.Apply(ctx, catalog.Mutation{Ref: key, Object: config.APIKey{ID: "api-key", SecretSHA256: hashHex("k"),
		Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}}); err != nil {
		t.Fatal(err)
	}
	withX := file()
	withX.Stacks = append(withX.Stacks, config.Stack{ID: "x", Space: "prod"})
	if _, err := a.Reload(ctx, withX); err != nil {
		t.Fatal(err)
	}
	// b reloads on its own file after a did: the store's record of the file as seen no longer
	// names x, so b's API may create it (a rollout that went back and forth).
	if _, err := b.Reload(ctx, file()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Apply(ctx, stackPut(config.Stack{ID: "x", Space: "prod-eu"})); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Apply(ctx, catalog.Mutation{Ref: key}); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatalf("Refresh with a colliding API object: %v", err)
	}
	c := a.Live().Load()
	if _, ok := c.Meta(key); ok {
		t.Error("an API key deleted on another replica is still in force")
	}
	if space, _ := c.StackSpace("x"); space != "prod" {
		t.Errorf("stack x is in %q, want the file's prod", space)
	}
	if m, _ := c.Meta(catalog.Ref{Kind: catalog.KindStack, ID: "x"}); m.ManagedBy != catalog.ManagedByConfig {
		t.Errorf("stack x is managed by %s, want config", m.ManagedBy)
	}
	if _, err := a.Apply(ctx, stackPut(config.Stack{ID: "other", Space: "prod"})); err != nil {
		t.Errorf("an unrelated change on the replica with the collision: %v", err)
	}
	if _, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withX}); err != nil {
		t.Errorf("a replica starting on the colliding store: %v", err)
	}
}

// TestVersionsGrowAcrossADeletion: an object deleted and created again under the same id goes
// on from the version it was deleted at, so an If-Match of the old object's version can never
// match the new one; this holds for every replica, and for one started later.
func TestVersionsGrowAcrossADeletion(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a, b := newManager(t, store), newManager(t, store)
	ref := catalog.Ref{Kind: catalog.KindStack, ID: "again"}
	put := func(m *catalog.Manager, ifMatch int64) (catalog.Result, error) {
		return m.Apply(ctx, catalog.Mutation{Ref: ref, Object: config.Stack{ID: "again", Space: "prod"}, IfMatch: ifMatch})
	}
	if res, err := put(a, 0); err != nil || res.Version != 1 {
		t.Fatalf("create: %+v, %v", res, err)
	}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: ref}); err != nil {
		t.Fatal(err)
	}
	// The id's tombstone keeps version 2, yet no object is there for an If-Match to match.
	for _, v := range []int64{1, 2} {
		if _, err := put(b, v); !errors.Is(err, catalog.ErrPrecondition) {
			t.Errorf("If-Match %d on a deleted object: %v, want ErrPrecondition", v, err)
		}
	}
	res, err := put(b, 0)
	if err != nil || !res.Created || res.Version != 3 {
		t.Fatalf("created again: %+v, %v; want created at version 3", res, err)
	}
	if _, err := put(a, 1); !errors.Is(err, catalog.ErrPrecondition) {
		t.Errorf("If-Match of the deleted object's version: %v, want ErrPrecondition", err)
	}
	late := newManager(t, store)
	if m, _ := late.Live().Load().Meta(ref); m.Version != 3 {
		t.Errorf("a replica started later sees version %d, want 3", m.Version)
	}
	if _, ok := late.Live().Load().Stack("again"); !ok {
		t.Error("the stack created again is not in force")
	}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: ref}); err != nil {
		t.Fatal(err)
	}
	if err := late.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := late.Live().Load().Stack("again"); ok {
		t.Error("a deleted stack is in force")
	}
}

// TestReplicaWithAnOlderFile: replica a has reloaded a file with a new space, b has not yet,
// and an API stack (with an attachment) is created in that space through a. b's catalog still
// follows the store: the stack and what refers to it are left out on b, and an API key deleted
// on a is gone on b at its next refresh, not kept until a restart. Reloading b with a's file
// then brings the stack in.
func TestReplicaWithAnOlderFile(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a, b := newManager(t, store), newManager(t, store)
	key := catalog.Ref{Kind: catalog.KindAPIKey, ID: "api-key"}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: key, Object: config.APIKey{ID: "api-key", SecretSHA256: hashHex("k"),
		Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}}); err != nil {
		t.Fatal(err)
	}
	newer := file()
	newer.Spaces = append(newer.Spaces, config.Space{ID: "extra", Parent: "prod", Inherit: true})
	if _, err := a.Reload(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, stackPut(config.Stack{ID: "in-extra", Space: "extra"})); err != nil {
		t.Fatal(err)
	}
	attach := catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID("in-extra", "aws-root")}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: attach, Object: config.Attachment{Stack: "in-extra", Integration: "aws-root", Read: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, catalog.Mutation{Ref: key}); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatalf("Refresh on the replica with the older file: %v", err)
	}
	c := b.Live().Load()
	if c.Revision() != a.Live().Load().Revision() {
		t.Errorf("b is at revision %d, a at %d", c.Revision(), a.Live().Load().Revision())
	}
	if _, ok := c.Meta(key); ok {
		t.Error("an API key deleted on a is still in force on b")
	}
	if _, ok := c.Stack("in-extra"); ok {
		t.Error("b holds a stack in a space its file does not declare")
	}
	if len(c.Attachments("in-extra")) != 0 {
		t.Error("b holds the attachment of a stack it left out")
	}
	if _, err := b.Reload(ctx, newer); err != nil {
		t.Fatalf("reloading b with a's file: %v", err)
	}
	if space, _ := b.Live().Load().StackSpace("in-extra"); space != "extra" {
		t.Errorf("after b's reload, stack in-extra is in %q, want extra", space)
	}
}

// TestFileLeavingSurvivesARestart: a file stack and a file space that leave with a reload are
// recorded in the store, so that a replica started afterwards with a file declaring them again,
// and a replica that never saw them leave, count them as created when they left (plus
// SettleTime): the old stack's runs stay ended and the old space's audit events stay out of the
// new space's listing, across restarts and replicas, not only on the replica that reloaded.
func TestFileLeavingSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := catalog.NewMemory()
	with := file()
	with.Spaces = append(with.Spaces, config.Space{ID: "team", Parent: "prod"})
	with.Stacks = append(with.Stacks, config.Stack{ID: "app", Space: "team"})
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	left := now
	if _, err := a.Reload(ctx, file()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	wantCreated := left.Add(catalog.SettleTime)
	check := func(who string, m *catalog.Manager) {
		t.Helper()
		c := m.Live().Load()
		for _, r := range []catalog.Ref{{Kind: catalog.KindStack, ID: "app"}, {Kind: catalog.KindSpace, ID: "team"}} {
			if meta, ok := c.Meta(r); !ok || !meta.Created.Equal(wantCreated) {
				t.Errorf("%s: %s created %v (in force: %v), want %v", who, r, meta.Created, ok, wantCreated)
			}
		}
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	check("a replica that never saw them leave", b)
	restarted, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: with, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	check("a replica started on a file declaring them again", restarted)
	if _, err := a.Reload(ctx, with); err != nil {
		t.Fatal(err)
	}
	check("the replica that reloaded, declaring them again", a)
}

// TestFileObjectVersionGrowsOnReload: a file object whose body a reload changes gets a new
// version (its ETag), on the replica that reloaded, on the others once they refresh, and on a
// replica started later; an object the reload leaves as it was keeps its version.
func TestFileObjectVersionGrowsOnReload(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a, b := newManager(t, store), newManager(t, store)
	vpc := catalog.Ref{Kind: catalog.KindStack, ID: "vpc"}
	role := catalog.Ref{Kind: catalog.KindRole, ID: "admin"}
	version := func(m *catalog.Manager, r catalog.Ref) int64 {
		t.Helper()
		meta, ok := m.Live().Load().Meta(r)
		if !ok {
			t.Fatalf("%s is not in force", r)
		}
		return meta.Version
	}
	if v := version(a, vpc); v != 1 {
		t.Fatalf("vpc at start: version %d, want 1", v)
	}
	changed := file()
	changed.Stacks[0].Labels = []string{"changed"}
	if _, err := a.Reload(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Reload(ctx, changed); err != nil { // the same file again changes nothing
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// A replica started later on the reloaded file finds the version the reload made (one
	// started on the file from before the reload changes the object again, as a reload back
	// to it would).
	later, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: changed})
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*catalog.Manager{"the replica that reloaded": a, "another replica": b, "a replica started later": later} {
		if v := version(m, vpc); v != 2 {
			t.Errorf("%s: vpc changed by a reload is at version %d, want 2", name, v)
		}
		if v := version(m, role); v != 1 {
			t.Errorf("%s: a role the reload left as it was is at version %d, want 1", name, v)
		}
	}
	if meta, _ := a.Live().Load().Meta(vpc); !meta.Created.IsZero() {
		t.Errorf("a change in place moved vpc's creation to %v: its runs would end", meta.Created)
	}
}

// TestReloadLeavesTheAPIObjectOfItsID: a file stack whose id another replica (whose file lacked
// it) used for an API stack leaves the file: the reload records nothing over the API's stack,
// which stays in force on every replica. (b, started on a file without x, recorded x's leave
// from prod-eu: the API's stack x may take the id only there.)
func TestReloadLeavesTheAPIObjectOfItsID(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	withX := file()
	withX.Stacks = append(withX.Stacks, config.Stack{ID: "x", Space: "prod-eu"})
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withX})
	if err != nil {
		t.Fatal(err)
	}
	b := newManager(t, store)
	if _, err := b.Apply(ctx, stackPut(config.Stack{ID: "x", Space: "prod-eu", Labels: []string{"api"}})); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Reload(ctx, file()); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*catalog.Manager{"a": a, "b": b} {
		if st, ok := m.Live().Load().Stack("x"); !ok || len(st.Labels) != 1 {
			t.Errorf("%s: the API's stack x after a's reload: in force %v, %+v", name, ok, st)
		}
	}
}

// TestReplicaFollowsTheStoreWhenItsFileObjectMisfits: an API attachment committed by a replica
// whose file lacks an autoattach rule breaks one-write-per-provider against that rule in
// another replica's file: the problem is found on the file's integration, not on an API
// object. That replica leaves out the API objects added since its catalog in force, at that
// refresh and the next ones, so that a key deleted later still stops working there.
func TestReplicaFollowsTheStoreWhenItsFileObjectMisfits(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a := newManager(t, store)
	newer := file()
	newer.Stacks[0].Labels = []string{"team"}
	newer.Integrations = append(newer.Integrations, withAuto(awsIn("aws-auto", "root"), config.Autoattach{Label: "team", Write: true}))
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: newer})
	if err != nil {
		t.Fatal(err)
	}
	apply := func(mu catalog.Mutation) {
		t.Helper()
		if _, err := a.Apply(ctx, mu); err != nil {
			t.Fatal(err)
		}
	}
	refresh := func(what string) *catalog.Catalog {
		t.Helper()
		if err := b.Refresh(ctx); err != nil {
			t.Fatalf("b's Refresh %s: %v", what, err)
		}
		c := b.Live().Load()
		if c.Revision() != a.Live().Load().Revision() {
			t.Fatalf("b at revision %d %s, a at %d", c.Revision(), what, a.Live().Load().Revision())
		}
		return c
	}
	key := catalog.Ref{Kind: catalog.KindAPIKey, ID: "api-key"}
	apply(catalog.Mutation{Ref: key, Object: config.APIKey{ID: "api-key", SecretSHA256: hashHex("k"),
		Bindings: []config.Binding{{Role: "admin", Space: "prod"}}}})
	apply(catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "aws-api"}, Object: awsIn("aws-api", "prod")})
	refresh("before the attachment")
	apply(catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID("vpc", "aws-api")},
		Object: config.Attachment{Stack: "vpc", Integration: "aws-api", Write: true}})
	c := refresh("after the attachment")
	if _, ok := c.APIKey("api-key"); !ok {
		t.Error("b left out the API key, which fits")
	}
	if got := c.Attachments("vpc"); len(got) != 2 || got[1].Integration != "aws-auto" {
		t.Errorf("vpc's attachments on b: %+v, want the file's two (aws-root read, aws-auto write)", got)
	}
	apply(catalog.Mutation{Ref: key})
	if _, ok := refresh("after the key's deletion").APIKey("api-key"); ok {
		t.Error("b holds the API key deleted on a")
	}
}

// TestFittingLeavesOutTheRightObjectAfterACollision: with an API object colliding with the
// file ahead of one that does not fit, the one left out for not fitting is that one, not its
// neighbour (the problems' indexes are those of the list without the collision).
func TestFittingLeavesOutTheRightObjectAfterACollision(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	fa := file()
	fa.Spaces = append(fa.Spaces, config.Space{ID: "extra", Parent: "prod"})
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: fa})
	if err != nil {
		t.Fatal(err)
	}
	fb := file()
	fb.Stacks = append(fb.Stacks, config.Stack{ID: "a-coll", Space: "prod"})
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: fb})
	if err != nil {
		t.Fatal(err)
	}
	// a restarts on its file after b started: the store's record of the file as seen no longer
	// names a-coll, so a's API may create it.
	if a, err = catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: fa}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []config.Stack{{ID: "a-coll", Space: "prod"}, {ID: "b-ok", Space: "prod"}, {ID: "c-bad", Space: "extra"}} {
		if _, err := a.Apply(ctx, stackPut(st)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	c := b.Live().Load()
	if c.Revision() != a.Live().Load().Revision() {
		t.Fatalf("b at revision %d, a at %d", c.Revision(), a.Live().Load().Revision())
	}
	if _, ok := c.Stack("b-ok"); !ok {
		t.Error("b left out API stack b-ok, which fits b's file (stack c-bad is the one in a space b does not know)")
	}
	if _, ok := c.Stack("c-bad"); ok {
		t.Error("b holds c-bad")
	}
}

// TestReplicaStartsWithAnOlderFile: a replica (re)started with a file behind the one another
// replica committed API objects under starts, leaving out the objects that do not fit, rather
// than not starting at all.
func TestReplicaStartsWithAnOlderFile(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	newer := file()
	newer.Spaces = append(newer.Spaces, config.Space{ID: "extra", Parent: "prod", Inherit: true})
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: newer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, stackPut(config.Stack{ID: "in-extra", Space: "extra"})); err != nil {
		t.Fatal(err)
	}
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file()})
	if err != nil {
		t.Fatalf("a replica started with the older file: %v", err)
	}
	if _, ok := b.Live().Load().Stack("in-extra"); ok {
		t.Error("b holds a stack in a space its file does not declare")
	}
}
