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

// TestLeaveOutRight: when the store holds, beside a valid API object, one of the same kind
// that does not fit (a space under a parent no file declares, a role with an action no release
// knows, a key bound where no space is), the catalog in force leaves out the unfit one only:
// the valid one stays in force whatever the kind, however many objects of the kind the file
// declares before the API's.
func TestLeaveOutRight(t *testing.T) {
	cases := []struct {
		name      string
		good, bad any
		held      func(c *catalog.Catalog, id string) bool
	}{
		{"spaces", config.Space{ID: "good-space", Parent: "prod"}, config.Space{ID: "bad-space", Parent: "nowhere"},
			func(c *catalog.Catalog, id string) bool { _, ok := c.Space(id); return ok }},
		{"roles", config.Role{ID: "good-role", Actions: []string{config.ActionRunRead}}, config.Role{ID: "bad-role", Actions: []string{"run:destroy"}},
			func(c *catalog.Catalog, id string) bool { _, ok := c.Role(id); return ok }},
		{"api keys", config.APIKey{ID: "good-key", SecretSHA256: hashHex("good-secret"), Bindings: []config.Binding{{Role: "admin", Space: "prod"}}},
			config.APIKey{ID: "bad-key", SecretSHA256: hashHex("bad-secret"), Bindings: []config.Binding{{Role: "admin", Space: "nowhere"}}},
			func(c *catalog.Catalog, id string) bool { _, ok := c.APIKey(id); return ok }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := storeOf(t, tc.good, tc.bad)
			m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: store, File: file()})
			if err != nil {
				t.Fatalf("NewManager beside an unfit stored object: %v", err)
			}
			c := m.Live().Load()
			goodRef, _ := catalog.RefOf(tc.good)
			badRef, _ := catalog.RefOf(tc.bad)
			if !tc.held(c, goodRef.ID) {
				t.Errorf("the valid %s is left out of force: only the unfit %s should be", goodRef, badRef)
			}
			if tc.held(c, badRef.ID) {
				t.Errorf("the unfit %s is in force", badRef)
			}
		})
	}
}

// TestNoneMatchLeftOut: If-None-Match on the id of a stored object the catalog leaves out
// fails, and the refusal says the object is left out of force and how to replace it (a put
// without If-None-Match), not merely that it exists: the caller cannot see it anywhere else.
func TestNoneMatchLeftOut(t *testing.T) {
	m := newManager(t, storedBeforeRules(t))
	_, err := m.Apply(context.Background(), catalog.Mutation{Ref: longGCPRef, Object: gcpIn("g1", time.Hour), IfMatch: catalog.NoVersion})
	if !errors.Is(err, catalog.ErrPrecondition) {
		t.Fatalf("If-None-Match over a left-out object = %v, want a failed precondition", err)
	}
	for _, want := range []string{"left out", "without If-None-Match"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
}

// TestReplacedUnfitLeftOut: when another replica (whose file lacks an autoattach rule of
// this replica's file) replaces an API attachment so that it no longer fits this replica's file,
// this replica leaves the new version out, and does not keep the old one in force: the catalog
// in force follows the store, and a write attachment replaced elsewhere is never kept here.
func TestReplacedUnfitLeftOut(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a := newManager(t, store)
	withRule := file()
	withRule.Integrations = append(slices.Clone(withRule.Integrations),
		withAuto(awsIn("aws-auto", "prod"), config.Autoattach{Label: "team", Read: true}))
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withRule})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, a, stackPut(config.Stack{ID: "s", Space: "prod", Labels: []string{"team"}}))
	mustApply(t, a, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "aws-x"}, Object: awsIn("aws-x", "prod")})
	at := catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID("s", "aws-x")}
	mustApply(t, a, catalog.Mutation{Ref: at, Object: config.Attachment{Stack: "s", Integration: "aws-x", Write: true}})
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Live().Load().Attached("s", "aws-x") {
		t.Fatal("b does not hold the write attachment that fits its file: the test proves nothing")
	}
	// a replaces it with read and write: on b, s would have two read attachments for aws.
	mustApply(t, a, catalog.Mutation{Ref: at, Object: config.Attachment{Stack: "s", Integration: "aws-x", Read: true, Write: true}})
	_ = b.Refresh(ctx)
	for _, ea := range b.Live().Load().Attachments("s") {
		if ea.Integration == "aws-x" {
			t.Errorf("b keeps s/aws-x in force (%+v) after another replica replaced it with a version b's file refuses", ea)
		}
	}
	if b.Live().Load().Revision() != a.Live().Load().Revision() {
		t.Errorf("b's catalog is at revision %d, the store at %d: it does not follow the store", b.Live().Load().Revision(), a.Live().Load().Revision())
	}
}

// TestFileChangeKeepsAPIObject: a reload that changes a file object whose id the store
// holds an API object under (committed by a replica whose file lacked it) records no version
// raise over that id: the record would be a tombstone, deleting the API object from the store
// for every replica.
func TestFileChangeKeepsAPIObject(t *testing.T) {
	ctx := context.Background()
	store := catalog.NewMemory()
	a := newManager(t, store)
	mustApply(t, a, stackPut(config.Stack{ID: "x", Space: "prod"}))

	// b's file declares x too (the file wins on b); its start records its file as seen.
	withX := file()
	withX.Stacks = append(slices.Clone(withX.Stacks), config.Stack{ID: "x", Space: "prod"})
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: withX})
	if err != nil {
		t.Fatal(err)
	}
	// b reloads a file in which x changed.
	changed := file()
	changed.Stacks = append(slices.Clone(changed.Stacks), config.Stack{ID: "x", Space: "prod", Labels: []string{"l"}})
	if _, err := b.Reload(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*catalog.Catalog{"a": a.Live().Load(), "a replica starting": newManager(t, store).Live().Load()} {
		if meta, ok := c.Meta(catalog.Ref{Kind: catalog.KindStack, ID: "x"}); !ok || meta.ManagedBy != catalog.ManagedByAPI {
			t.Errorf("%s: the API stack x is gone (%+v, %v) after another replica's file changed its own x", name, meta, ok)
		}
	}
}
