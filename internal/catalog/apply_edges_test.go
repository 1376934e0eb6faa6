package catalog_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// TestInForceReplaceSkipsLeftOutCheck: replacing or deleting an API object the catalog in
// force holds is not a store repair: the check for left-out objects (AuthorizeLeftOut) is not
// asked, and a refusing one does not stop the change.
// Guards against: AuthorizeLeftOut asked for every replaced object, not only for left-out ones
func TestInForceReplaceSkipsLeftOutCheck(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, catalog.NewMemory())
	role := config.Role{ID: "reader", Actions: []string{config.ActionRunRead}}
	if err := putObject(t, m, role); err != nil {
		t.Fatal(err)
	}
	ref := catalog.Ref{Kind: catalog.KindRole, ID: role.ID}
	replaced := config.Role{ID: role.ID,
		Actions: []string{config.ActionRunRead, config.ActionAuditRead}}
	for _, mu := range []catalog.Mutation{{Ref: ref, Object: replaced}, {Ref: ref}} {
		asked := false
		mu.AuthorizeLeftOut = func(*catalog.Catalog) error {
			asked = true
			return errMayNotRepair
		}
		if _, err := m.Apply(ctx, mu); err != nil || asked {
			t.Fatalf("change of role in force (put: %v) = %v, AuthorizeLeftOut asked %v; "+
				"want applied, not asked", mu.Object != nil, err, asked)
		}
	}
}

// slowLog is a ChangeLog whose Before takes pause, as a slow audit store would.
type slowLog struct{ pause time.Duration }

func (l slowLog) Before(context.Context, catalog.Result) error {
	time.Sleep(l.pause)
	return nil
}

func (slowLog) NotCommitted(context.Context, catalog.Result, error) {}

// TestCommitConfirmsCatalogCurrent: a replica's own commit confirms its catalog current
// with the store as of the moment the commit was sent, not as of the read before the change was
// validated and recorded: a slow record of the change does not make the catalog count as stale
// right after the change is in.
// Guards against: install without m.live.Confirm(asked)
func TestCommitConfirmsCatalogCurrent(t *testing.T) {
	const pause = 2 * time.Second
	m := newManager(t, catalog.NewMemory())
	st := config.Stack{ID: "app", Space: "prod"}
	_, err := m.Apply(context.Background(), catalog.Mutation{
		Ref: catalog.Ref{Kind: catalog.KindStack, ID: st.ID}, Object: st,
		Log: slowLog{pause: pause}})
	if err != nil {
		t.Fatal(err)
	}
	// The commit was sent after the pause: unless the machine stalls for pause/2 between the
	// commit and this line, a confirmation at the commit is younger than pause/2, and one at the
	// read before the pause older than pause.
	if age := m.Live().Stale(pause / 2); age != 0 {
		t.Errorf("right after its own commit the catalog counts as stale (%v)", age)
	}
}

// TestStackBackInPlaceSurvivesSpaceMove: a stack deleted and created again in its place
// through the API is a live object, not a tombstone: moving its space afterwards forgets the
// places of the tombstones under it, but leaves the live stack in the store, on every replica.
// Guards against: a put that does not drop the place of the tombstone it replaces (next.From)
func TestStackBackInPlaceSurvivesSpaceMove(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	m := newManager(t, store)
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "app"}
	team := catalog.Ref{Kind: catalog.KindSpace, ID: "team"}
	steps := []catalog.Mutation{
		{Ref: team, Object: config.Space{ID: "team", Parent: "prod"}},
		{Ref: stack, Object: config.Stack{ID: "app", Space: "team"}},
		{Ref: stack},
		{Ref: stack, Object: config.Stack{ID: "app", Space: "team"}},
		{Ref: team, Object: config.Space{ID: "team", Parent: "root"}},
	}
	for i, mu := range steps {
		if _, err := m.Apply(ctx, mu); err != nil {
			t.Fatalf("step %d (%s): %v", i, mu.Ref, err)
		}
	}
	other := newManager(t, store)
	if sp, ok := other.Live().Load().StackSpace("app"); !ok || sp != "team" {
		t.Errorf("after its space moved, the stack created again is in %q (in force: %v), "+
			"want team", sp, ok)
	}
}

// TestCollisionErrorNamesEachObjectOnce: the refusal of objects declared both in the file
// and through the API names each of them, separated by semicolons, with no separator dangling
// before the advice that ends it.
// Guards against: CollisionError.Error keeping the last object's trailing ";"
func TestCollisionErrorNamesEachObjectOnce(t *testing.T) {
	const declaredBoth = "declared both in the configuration file and through the API:"
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "vpc"}
	cases := []struct {
		refs []catalog.Ref
		want string
	}{
		{refs: []catalog.Ref{stack},
			want: declaredBoth + ` stack "vpc" (remove one of them)`},
		{refs: []catalog.Ref{stack, {Kind: catalog.KindAPIKey, ID: "ops"}},
			want: declaredBoth + ` stack "vpc"; api_key "ops" (remove one of them)`},
	}
	for _, tc := range cases {
		if got := (&catalog.CollisionError{Refs: tc.refs}).Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// TestSpaceKeepingOverlappingTemplateMayChange: a space that keeps its subject template
// is never refused for it, also when that template overlaps one a space held (a space an older
// release stored with it): its other fields still change through the API.
// Guards against: checkHeldTemplate without the early return for a template the space keeps
func TestSpaceKeepingOverlappingTemplateMayChange(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	m := newManager(t, store)
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld}))
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldNewer}))
	// An older release, which checked no held template, stored space b with heldTaker.
	b := config.Space{ID: "b", Parent: "prod", SubjectTemplate: heldTaker}
	body, err := config.EncodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := catalog.Record{Ref: catalog.Ref{Kind: catalog.KindSpace, ID: "b"},
		Version: 1, Created: 1, Body: body}
	if _, err := store.Commit(ctx, head, []catalog.Change{{Record: rec}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Live().Load().Space("b"); !ok {
		t.Fatal("space b is not in force: the test proves nothing")
	}
	b.Inherit = true
	if _, err := m.Apply(ctx, spacePut(b)); err != nil {
		t.Fatalf("space b keeping its template, given inherit = %v, want applied", err)
	}
	if sp, _ := m.Live().Load().Space("b"); !sp.Inherit {
		t.Error("space b's change is not in force")
	}
}

// TestFileOverlapWarnedOnlyWhenNew: the operators are told once of a file space's template
// that overlaps a held one, when the file brings it; once the store records it, reloading the
// same file warns no more.
// Guards against: fileOverlaps comparing templates the store already records
func TestFileOverlapWarnedOnlyWhenNew(t *testing.T) {
	ctx := context.Background()
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	m, err := catalog.NewManager(ctx,
		catalog.ManagerConfig{Store: catalog.NewMemory(), File: file(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldOld}))
	mustApply(t, m, spacePut(config.Space{ID: "a", Parent: "prod", SubjectTemplate: heldNewer}))
	withF := file()
	f := config.Space{ID: "f", Parent: "prod", SubjectTemplate: heldTaker}
	withF.Spaces = append(slices.Clone(withF.Spaces), f)
	for i, want := range []bool{true, false} {
		logged.Reset()
		if _, err := m.Reload(ctx, withF); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		if got := strings.Contains(logged.String(), `space \"f\": template`); got != want {
			t.Errorf("reload %d warns of f's overlap: %v, want %v; log:\n%s",
				i, got, want, logged.String())
		}
	}
}

// TestFileKeyLeavingSparesAPIKeyOfItsID: a file API key that leaves a replica's file is
// recorded as gone only while the store holds no API key under its id: one another replica,
// whose file lacked it, created through the API stays, on every replica.
// Guards against: leaves writing a tombstone over an API object of the leaving file object's id
func TestFileKeyLeavingSparesAPIKeyOfItsID(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	withKey := file()
	binding := []config.Binding{{Role: "admin", Space: "prod"}}
	withKey.APIKeys = append(withKey.APIKeys,
		config.APIKey{ID: "k", SecretSHA256: hashHex("file-secret"), Bindings: binding})
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withKey})
	if err != nil {
		t.Fatal(err)
	}
	b := newManager(t, store) // its file lacks key k
	apiKey := config.APIKey{ID: "k", SecretSHA256: hashHex("api-secret"), Bindings: binding}
	if err := putObject(t, b, apiKey); err != nil {
		t.Fatalf("replica b creating API key k: %v", err)
	}
	if _, err := a.Reload(ctx, file()); err != nil {
		t.Fatalf("replica a dropping key k from its file: %v", err)
	}
	c := newManager(t, store)
	for name, m := range map[string]*catalog.Manager{"a": a, "a replica starting": c} {
		k, ok := m.Live().Load().APIKey("k")
		if meta, _ := m.Live().Load().Meta(catalog.Ref{Kind: catalog.KindAPIKey, ID: "k"}); !ok ||
			k.SecretSHA256 != hashHex("api-secret") || meta.ManagedBy != catalog.ManagedByAPI {
			t.Errorf("%s: API key k in force %v (%+v), want the API's", name, ok, meta)
		}
	}
}
