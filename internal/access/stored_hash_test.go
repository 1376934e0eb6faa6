package access_test

import (
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/config"
)

// TestStoredHashOfWrongLengthMatchesNothing pins that a key whose stored secret_sha256 is
// not exactly 64 hex digits authenticates no secret, not even the one whose SHA-256 the stored
// value begins with: a hash with trailing digits is not truncated into a usable one.
// Guards against: length check dropped on the decoded hash, authorizer.go:Build
func TestStoredHashOfWrongLengthMatchesNothing(t *testing.T) {
	a := access.Build(access.Input{
		Roles: []config.Role{{ID: "runner", Actions: []string{config.ActionRunCreate}}},
		APIKeys: []config.APIKey{
			{ID: "long", SecretSHA256: hashHex("long-secret") + "00", Bindings: []config.Binding{{Role: "runner", Space: "root"}}},
			{ID: "ok", SecretSHA256: hashHex("ok-secret"), Bindings: []config.Binding{{Role: "runner", Space: "root"}}},
		},
		Paths: map[string][]string{"root": {"root"}},
	})
	if p, err := a.Authenticate("long-secret"); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("Authenticate with a 66-digit stored hash = %+v, %v; want ErrUnauthenticated", p, err)
	}
	if p, err := a.Authenticate("ok-secret"); err != nil || p.KeyID != "ok" {
		t.Errorf("Authenticate(ok-secret) = %+v, %v; want key ok", p, err)
	}
}
