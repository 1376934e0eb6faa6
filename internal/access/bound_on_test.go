package access_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/config"
)

// TestBoundOn checks that BoundOn counts only bindings on the listed spaces themselves, not on
// their ancestors, whose role holds the action asked (any role for an empty action), and that
// a key deleted or given another secret since its principal was made counts none.
func TestBoundOn(t *testing.T) {
	in := access.Input{
		Roles: []config.Role{
			{ID: "reader", Actions: []string{config.ActionRunRead}},
			{ID: "mover", Actions: []string{config.ActionRunRead, config.ActionRunUpdate}},
		},
		APIKeys: []config.APIKey{
			{ID: "k", SecretSHA256: hashHex("k-secret"), Bindings: []config.Binding{
				{Role: "reader", Space: "root"}, {Role: "mover", Space: "prod"}}},
		},
		Paths: map[string][]string{"root": {"root"}, "prod": {"root", "prod"},
			"app": {"root", "prod", "app"}},
	}
	a := access.Build(in)
	p, err := a.Authenticate("k-secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, action string
		spaces       []string
		want         bool
	}{
		{"any role on a bound space", "", []string{"prod"}, true},
		{"the role holds the action", config.ActionRunUpdate, []string{"prod"}, true},
		{"the role lacks the action", config.ActionRunUpdate, []string{"root"}, false},
		{"a binding on an ancestor does not count", "", []string{"app"}, false},
		{"one of several spaces", config.ActionRunRead, []string{"app", "root"}, true},
		{"no spaces", "", nil, false},
	} {
		if got := a.BoundOn(p, tc.action, tc.spaces); got != tc.want {
			t.Errorf("%s: BoundOn(k, %q, %v) = %v, want %v", tc.name, tc.action, tc.spaces, got, tc.want)
		}
	}
	in.APIKeys[0].SecretSHA256 = hashHex("another-secret")
	if access.Build(in).BoundOn(p, "", []string{"prod"}) {
		t.Error("BoundOn counted the binding of a key whose secret was replaced since")
	}
}
