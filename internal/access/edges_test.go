package access_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestEmptySecretNeverAuthenticates pins that an empty secret authenticates nobody, even
// when a key's stored hash is the SHA-256 of the empty string: the refusal does not rest on no
// key having that hash.
// Guards against: the empty-secret refusal dropped, authorizer.go:Authenticate
func TestEmptySecretNeverAuthenticates(t *testing.T) {
	a := access.Build(access.Input{
		Roles:   []config.Role{{ID: "admin", Actions: []string{config.ActionSpaceAdmin}}},
		APIKeys: []config.APIKey{{ID: "blank", SecretSHA256: hashHex(""), Bindings: []config.Binding{{Role: "admin", Space: "root"}}}},
		Paths:   map[string][]string{"root": {"root"}},
	})
	if p, err := a.Authenticate(""); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("Authenticate(\"\") = %+v, %v; want ErrUnauthenticated", p, err)
	}
}

// TestEmptyActionNeverAllowed pins that the empty action is refused even to a key whose
// role lists the empty string among its actions.
// Guards against: `action != ""` dropped from the grant condition, authorizer.go:Allowed
func TestEmptyActionNeverAllowed(t *testing.T) {
	a := access.Build(access.Input{
		Roles:   []config.Role{{ID: "odd", Actions: []string{"", config.ActionRunRead}}},
		APIKeys: []config.APIKey{{ID: "k", SecretSHA256: hashHex("k-secret"), Bindings: []config.Binding{{Role: "odd", Space: "root"}}}},
		Paths:   map[string][]string{"root": {"root"}},
	})
	p := access.Principal{KeyID: "k"}
	if err := a.Allowed(p, "", "root"); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("Allowed(empty action) = %v, want ErrForbidden", err)
	}
	if err := a.Allowed(p, config.ActionRunRead, "root"); err != nil {
		t.Errorf("Allowed(run:read) = %v, want nil", err)
	}
}

// TestStartChecksTheRunsSpace pins that AllowedToStart checks run:create in the run's own
// space: a key may start runs in its binding's subtree and nowhere else, whatever the phase.
// Guards against: run:create checked in a fixed space instead of run.Space, start.go:AllowedToStart
func TestStartChecksTheRunsSpace(t *testing.T) {
	a := newAuthorizer(t)
	tests := []struct {
		key, space string
		phase      runs.Phase
		want       bool
	}{
		{"ci-prod", "dev", "", false},
		{"ci-prod", "root", runs.Planning, false},
		{"ci-prod", "prod-us", runs.Applying, true},
		{"ci-eu", "prod-eu-1", "", true},
		{"ci-eu", "prod", "", false},
		{"ci-eu", "prod-us", runs.Initializing, false},
		{"admin", "dev", runs.Applying, true},
		{"nobody", "dev", "", false},
	}
	for _, tt := range tests {
		err := a.AllowedToStart(access.Principal{KeyID: tt.key}, runs.NewRun{Space: tt.space, Type: runs.Tracked, Phase: tt.phase})
		if tt.want != (err == nil) || (err != nil && !errors.Is(err, access.ErrForbidden)) {
			t.Errorf("%s starting a TRACKED run in %s (%q): %v, want allowed=%v", tt.key, tt.space, tt.phase, err, tt.want)
		}
	}
}

// TestBearerSchemeAnyCase pins that the Bearer scheme is matched case-insensitively in
// every spelling, not only the three common ones.
// Guards against: scheme compared against "Bearer"/"bearer"/"BEARER" only, bearer.go:BearerToken
func TestBearerSchemeAnyCase(t *testing.T) {
	for _, scheme := range []string{"bEaReR", "BeArEr", "bearER"} {
		h := http.Header{}
		h.Set("Authorization", scheme+" tok-123")
		if got, err := access.BearerToken(h); err != nil || got != "tok-123" {
			t.Errorf("BearerToken(%q) = %q, %v; want tok-123", scheme, got, err)
		}
	}
}
