package access_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// testConfig: root → prod → {prod-eu → prod-eu-1, prod-us}, root → dev.
func testConfig() *config.Config {
	return &config.Config{
		Spaces: []config.Space{
			{ID: "root"},
			{ID: "prod", Parent: "root", Inherit: true},
			{ID: "prod-eu", Parent: "prod"},
			{ID: "prod-eu-1", Parent: "prod-eu"},
			{ID: "prod-us", Parent: "prod"},
			{ID: "dev", Parent: "root"},
		},
		Roles: []config.Role{
			{ID: "admin", Actions: []string{
				config.ActionRunCreate, config.ActionRunRead, config.ActionRunUpdate,
				config.ActionAuditRead, config.ActionSpaceAdmin,
			}},
			{ID: "runner", Actions: []string{config.ActionRunCreate, config.ActionRunRead, config.ActionRunUpdate}},
			{ID: "auditor", Actions: []string{config.ActionAuditRead}},
		},
		APIKeys: []config.APIKey{
			{ID: "admin", SecretSHA256: hashHex("admin-secret"), Bindings: []config.Binding{{Role: "admin", Space: "root"}}},
			{ID: "ci-prod", SecretSHA256: hashHex("ci-prod-secret"), Bindings: []config.Binding{{Role: "runner", Space: "prod"}}},
			{ID: "ci-eu", SecretSHA256: hashHex("ci-eu-secret"), Bindings: []config.Binding{{Role: "runner", Space: "prod-eu"}}},
			{ID: "audit-dev", SecretSHA256: hashHex("audit-dev-secret"), Bindings: []config.Binding{
				{Role: "auditor", Space: "dev"},
				{Role: "runner", Space: "prod-us"},
			}},
			{ID: "nobody", SecretSHA256: hashHex("nobody-secret"), Bindings: []config.Binding{{Role: "auditor", Space: "dev"}}},
		},
	}
}

func newAuthorizer(t *testing.T) *access.Authorizer {
	t.Helper()
	cat, err := catalog.Build(catalog.Input{File: catalog.FileObjects(testConfig())})
	if err != nil {
		t.Fatalf("catalog.Build: %v", err)
	}
	return cat.Access()
}

// TestAuthenticate pins which secrets authenticate which key, and that Known agrees.
// Guards against: authorizer.go:Known answering otherwise than Authenticate
func TestAuthenticate(t *testing.T) {
	a := newAuthorizer(t)
	tests := []struct {
		secret string
		want   string // key id; "" means ErrUnauthenticated
	}{
		{"admin-secret", "admin"},
		{"ci-prod-secret", "ci-prod"},
		{"ci-eu-secret", "ci-eu"},
		{"nobody-secret", "nobody"},
		{"", ""},
		{"wrong", ""},
		{"admin-secret ", ""},
		{"Admin-secret", ""},
		{hashHex("admin-secret"), ""}, // the stored hash is not the secret
	}
	for _, tt := range tests {
		if known := a.Known(tt.secret); known != (tt.want != "") {
			t.Errorf("Known(%q) = %v, want %v, as Authenticate answers", tt.secret, known, tt.want != "")
		}
		p, err := a.Authenticate(tt.secret)
		if tt.want == "" {
			if !errors.Is(err, access.ErrUnauthenticated) {
				t.Errorf("Authenticate(%q) = %+v, %v; want ErrUnauthenticated", tt.secret, p, err)
			}
			if err != nil && tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("Authenticate error %q repeats the secret", err)
			}
			continue
		}
		if err != nil || p.KeyID != tt.want {
			t.Errorf("Authenticate(%q) = %+v, %v; want key %q", tt.secret, p, err, tt.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	a := newAuthorizer(t)
	tests := []struct {
		name   string
		key    string
		action string
		space  string
		want   bool
	}{
		{"root binding covers root", "admin", config.ActionSpaceAdmin, "root", true},
		{"root binding covers a grandchild", "admin", config.ActionAuditRead, "prod-eu-1", true},
		{"binding covers its own space", "ci-prod", config.ActionRunCreate, "prod", true},
		{"parent binding covers a child", "ci-prod", config.ActionRunCreate, "prod-eu", true},
		{"parent binding covers a grandchild", "ci-prod", config.ActionRunUpdate, "prod-eu-1", true},
		{"binding does not cover the parent", "ci-eu", config.ActionRunCreate, "prod", false},
		{"binding does not cover the root", "ci-eu", config.ActionRunRead, "root", false},
		{"binding does not cover a sibling", "ci-eu", config.ActionRunCreate, "prod-us", false},
		{"binding does not cover another subtree", "ci-prod", config.ActionRunRead, "dev", false},
		{"role lacks the action", "ci-prod", config.ActionAuditRead, "prod", false},
		{"role lacks space:admin", "ci-prod", config.ActionSpaceAdmin, "prod-eu", false},
		{"second binding grants", "audit-dev", config.ActionRunCreate, "prod-us", true},
		{"bindings do not mix roles and spaces", "audit-dev", config.ActionAuditRead, "prod-us", false},
		{"bindings do not mix spaces and roles", "audit-dev", config.ActionRunCreate, "dev", false},
		{"key bound elsewhere", "nobody", config.ActionRunRead, "prod", false},
		{"unknown key", "ghost", config.ActionRunRead, "prod", false},
		{"unknown space", "admin", config.ActionRunRead, "nowhere", false},
		{"empty action", "admin", "", "prod", false},
		{"unknown action", "admin", "run:delete", "prod", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Allowed(access.Principal{KeyID: tt.key}, tt.action, tt.space)
			if tt.want {
				if err != nil {
					t.Errorf("Allowed(%s, %s, %s) = %v, want nil", tt.key, tt.action, tt.space, err)
				}
				return
			}
			if !errors.Is(err, access.ErrForbidden) {
				t.Fatalf("Allowed(%s, %s, %s) = %v, want ErrForbidden", tt.key, tt.action, tt.space, err)
			}
			for _, part := range []string{tt.key, tt.action, tt.space} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not name %q", err, part)
				}
			}
		})
	}
}

func TestAllowedNeverLeaksSecret(t *testing.T) {
	a := newAuthorizer(t)
	p, err := a.Authenticate("ci-eu-secret")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	err = a.Allowed(p, config.ActionRunCreate, "prod")
	if !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("Allowed = %v, want ErrForbidden", err)
	}
	if strings.Contains(err.Error(), "ci-eu-secret") || strings.Contains(strings.ToLower(err.Error()), hashHex("ci-eu-secret")) {
		t.Errorf("error %q leaks the secret or its hash", err)
	}
}

func TestEmptyInputAuthenticatesNobody(t *testing.T) {
	a := access.Build(access.Input{})
	if _, err := a.Authenticate("anything"); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("Authenticate = %v, want ErrUnauthenticated", err)
	}
}

func TestAllowedToStart(t *testing.T) {
	cfg := testConfig()
	cfg.Roles = append(cfg.Roles,
		config.Role{ID: "starter", Actions: []string{config.ActionRunCreate}},
		config.Role{ID: "mover", Actions: []string{config.ActionRunUpdate}})
	cfg.APIKeys = append(cfg.APIKeys,
		config.APIKey{ID: "start-only", SecretSHA256: hashHex("start-only-secret"), Bindings: []config.Binding{{Role: "starter", Space: "prod"}}},
		config.APIKey{ID: "move-only", SecretSHA256: hashHex("move-only-secret"), Bindings: []config.Binding{{Role: "mover", Space: "prod"}}},
		config.APIKey{ID: "move-elsewhere", SecretSHA256: hashHex("move-elsewhere-secret"), Bindings: []config.Binding{
			{Role: "starter", Space: "prod"}, {Role: "mover", Space: "dev"}}})
	cat, err := catalog.Build(catalog.Input{File: catalog.FileObjects(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	a := cat.Access()
	// write is each run type's write phase, written out by hand.
	write := map[runs.Type]runs.Phase{runs.Tracked: runs.Applying, runs.Task: runs.Performing, runs.Destroy: runs.Destroying}
	for _, key := range []string{"ci-prod", "start-only", "move-only", "move-elsewhere"} {
		for typ, wp := range write {
			for _, phase := range []runs.Phase{"", runs.Initializing, runs.Planning, wp} {
				err := a.AllowedToStart(access.Principal{KeyID: key}, runs.NewRun{Space: "prod-eu", Type: typ, Phase: phase})
				wantOK := key == "ci-prod" || (key != "move-only" && phase != wp)
				if wantOK != (err == nil) || (err != nil && !errors.Is(err, access.ErrForbidden)) {
					t.Errorf("%s starting %s in %q: %v, want allowed=%v", key, typ, phase, err, wantOK)
				}
				if err != nil && key != "move-only" && !strings.Contains(err.Error(), "needs run:update as well as run:create") {
					t.Errorf("%s starting %s in %q: message %q does not name run:update", key, typ, phase, err)
				}
			}
		}
	}
}
