package catalog_test

import (
	"context"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// collisionCase is a set of API objects committed in order, the file objects of the same ids a
// replica then starts with, and what must hold of that replica's catalog.
type collisionCase struct {
	name     string
	api      []any
	fileWith func(*catalog.Objects)
	check    func(*testing.T, *catalog.Catalog)
}

// startOnCollision commits tc's API objects, then starts a replica on the same store whose file
// declares the colliding objects, and returns the catalog in force there.
func startOnCollision(t *testing.T, tc collisionCase) *catalog.Catalog {
	t.Helper()
	ctx := context.Background()
	store := catalog.NewMemory()
	b := newManager(t, store)
	for _, obj := range tc.api {
		ref, err := catalog.RefOf(obj)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Apply(ctx, catalog.Mutation{Ref: ref, Object: obj}); err != nil {
			t.Fatalf("applying %v: %v", ref, err)
		}
	}
	f := file()
	tc.fileWith(&f)
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: f})
	if err != nil {
		t.Fatalf("starting on the file declaring the API objects' ids: %v", err)
	}
	return a.Live().Load()
}

// teamKey is an API key "team-key" of secret "team" with one binding.
func teamKey(role, space string) config.APIKey {
	return config.APIKey{ID: "team-key", SecretSHA256: hashHex("team"),
		Bindings: []config.Binding{{Role: role, Space: space}}}
}

// keyDenied fails t unless the key of secret "team" is unknown in c or denied action in space.
func keyDenied(t *testing.T, c *catalog.Catalog, action, space string) {
	t.Helper()
	az := c.Access()
	p, err := az.Authenticate("team")
	if err != nil {
		return
	}
	if err := az.Allowed(p, action, space); err == nil {
		t.Errorf("the key bound through the API object holds %s in %q of the file's object", action, space)
	}
}

// TestCollidedAPIObjectGrantsNothing: when the file declares the id of an API object, the file's
// object is in force and what the API made to refer to the API object is left out with it,
// never handed to the file's object: a key bound to an API role does not hold the file role's
// actions (which its maker never held), a key bound on an API space does not reach the file
// space of that id (another line of administration), and a stack attached to an API
// integration gets no credentials of the file's integration of that id (another cloud
// identity).
func TestCollidedAPIObjectGrantsNothing(t *testing.T) {
	for _, tc := range []collisionCase{
		{
			name: "role",
			api: []any{config.Role{ID: "deployer", Actions: []string{config.ActionRunRead}},
				teamKey("deployer", "prod-eu")},
			fileWith: func(f *catalog.Objects) {
				f.Roles = append(f.Roles, config.Role{ID: "deployer", Actions: config.Actions})
			},
			check: func(t *testing.T, c *catalog.Catalog) {
				keyDenied(t, c, config.ActionRunUpdate, "prod-eu")
			},
		},
		{
			name:     "space",
			api:      []any{config.Space{ID: "x", Parent: "prod-eu"}, teamKey("admin", "x")},
			fileWith: addOtherX,
			check: func(t *testing.T, c *catalog.Catalog) {
				keyDenied(t, c, config.ActionRunCreate, "x")
			},
		},
		{
			name: "space of a stack",
			api: []any{config.Space{ID: "x", Parent: "prod-eu"},
				config.Stack{ID: "web", Space: "x"}},
			fileWith: addOtherX,
			check: func(t *testing.T, c *catalog.Catalog) {
				if sp, ok := c.StackSpace("web"); ok {
					t.Errorf("the API stack of the API space x is in force, in %q", sp)
				}
			},
		},
		{
			name: "integration",
			api: []any{awsIn("i", "prod"), config.Stack{ID: "web", Space: "prod"},
				config.Attachment{Stack: "web", Integration: "i", Read: true, Write: true}},
			fileWith: func(f *catalog.Objects) {
				f.Integrations = append(f.Integrations, awsIn("i", "root"))
			},
			check: func(t *testing.T, c *catalog.Catalog) {
				run := runs.Run{Stack: "web", Space: "prod", RunType: runs.Tracked,
					Phase: runs.Applying, Scope: runs.Write}
				if in, err := c.Resolve(run, "aws", "i"); err == nil {
					t.Errorf("the stack attached to the API integration resolves the file's %q", in.ID)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, startOnCollision(t, tc))
		})
	}
}

// addOtherX declares in f a space "x" under a space "other" of its own, holding a stack "db".
func addOtherX(f *catalog.Objects) {
	f.Spaces = append(f.Spaces, config.Space{ID: "other", Parent: "root"},
		config.Space{ID: "x", Parent: "other"})
	f.Stacks = append(f.Stacks, config.Stack{ID: "db", Space: "x"})
}
