package access_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/config"
)

// TestBindingOutsideTreeGrantsNothing pins that rights follow the space tree only: a binding on a
// space id the tree does not hold (removed, or never there) grants nothing in that space, and a key
// is never allowed in a space outside the tree, even by a root binding.
// Guards against: Allowed matching the requested space itself besides its path from root,
// authorizer.go:Allowed
func TestBindingOutsideTreeGrantsNothing(t *testing.T) {
	a := access.Build(access.Input{
		Roles: []config.Role{{ID: "runner", Actions: []string{config.ActionRunCreate, config.ActionRunUpdate}}},
		APIKeys: []config.APIKey{
			{ID: "ghost", SecretSHA256: hashHex("ghost-secret"), Bindings: []config.Binding{{Role: "runner", Space: "gone"}}},
			{ID: "rooted", SecretSHA256: hashHex("rooted-secret"), Bindings: []config.Binding{{Role: "runner", Space: "root"}}},
		},
		Paths: map[string][]string{"root": {"root"}, "prod": {"root", "prod"}},
	})
	for _, tc := range []struct{ secret, space string }{
		{"ghost-secret", "gone"},
		{"ghost-secret", "prod"},
		{"rooted-secret", "gone"},
	} {
		p, err := a.Authenticate(tc.secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Allowed(p, config.ActionRunCreate, tc.space); err == nil {
			t.Errorf("key %s allowed %s in space %q outside the tree", p.KeyID, config.ActionRunCreate, tc.space)
		}
		if a.Covers(p, tc.space) {
			t.Errorf("key %s covers space %q outside the tree", p.KeyID, tc.space)
		}
	}
}

// TestCoversThroughAnyBinding pins that Covers looks at every binding of a key, not just
// its first: a key bound as auditor on dev and as runner on prod-us covers prod-us (and nothing
// outside its two subtrees), so it may read the runs of prod-us it may start.
// Guards against: Covers checking only the key's first binding, authorizer.go:Covers
func TestCoversThroughAnyBinding(t *testing.T) {
	a := newAuthorizer(t)
	p, err := a.Authenticate("audit-dev-secret")
	if err != nil {
		t.Fatal(err)
	}
	for space, want := range map[string]bool{"dev": true, "prod-us": true, "prod": false, "prod-eu": false, "root": false} {
		if got := a.Covers(p, space); got != want {
			t.Errorf("Covers(audit-dev, %s) = %v, want %v", space, got, want)
		}
	}
}
