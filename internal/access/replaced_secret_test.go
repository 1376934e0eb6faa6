package access

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// A Principal holds its key's rights only while the key still has the secret it was
// authenticated with: against an Authorizer where the id names a key with another secret (the
// key deleted and created again) or no key, its checks fail as unauthenticated, and Covers is
// false. A Principal made from the id alone names whatever key has the id.
func TestPrincipalOfReplacedSecret(t *testing.T) {
	hash := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	build := func(secret string) *Authorizer {
		in := Input{
			Roles: []config.Role{{ID: "admin", Actions: []string{config.ActionSpaceAdmin}}},
			Paths: map[string][]string{"root": {"root"}},
		}
		if secret != "" {
			in.APIKeys = []config.APIKey{{ID: "k", SecretSHA256: hash(secret), Bindings: []config.Binding{{Role: "admin", Space: "root"}}}}
		}
		return Build(in)
	}
	old := build("old-secret")
	p, err := old.Authenticate("old-secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Allowed(p, config.ActionSpaceAdmin, "root"); err != nil {
		t.Fatalf("the key's own Authorizer: %v", err)
	}
	for name, az := range map[string]*Authorizer{"replaced": build("new-secret"), "deleted": build("")} {
		if err := az.Allowed(p, config.ActionSpaceAdmin, "root"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: Allowed = %v, want ErrUnauthenticated", name, err)
		}
		if az.Covers(p, "root") || az.Holds(p, "root", []string{config.ActionSpaceAdmin}) {
			t.Errorf("%s: the old secret's Principal still covers root", name)
		}
	}
	if err := build("new-secret").Allowed(Principal{KeyID: "k"}, config.ActionSpaceAdmin, "root"); err != nil {
		t.Errorf("a Principal made from the id: %v", err)
	}
}
