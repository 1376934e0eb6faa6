package api_test

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// Secrets of the auditor keys addAuditors puts in force.
const (
	secretProdAuditor = "prod-auditor-secret" // audit:read on prod only
	secretRootAuditor = "root-auditor-secret" // audit:read on root
)

// addAuditors puts in force h's catalog plus a role holding only audit:read, bound on prod
// to key prod-auditor and on root to key root-auditor.
func addAuditors(t *testing.T, h *runsHarness) {
	t.Helper()
	cur := h.live.Load().Objects()
	cur.Roles = append(cur.Roles, config.Role{ID: "auditor", Actions: []string{config.ActionAuditRead}})
	cur.APIKeys = append(cur.APIKeys,
		config.APIKey{ID: "prod-auditor", SecretSHA256: sha256Hex(secretProdAuditor), Bindings: []config.Binding{{Role: "auditor", Space: "prod"}}},
		config.APIKey{ID: "root-auditor", SecretSHA256: sha256Hex(secretRootAuditor), Bindings: []config.Binding{{Role: "auditor", Space: "root"}}})
	next, err := catalog.Build(catalog.Input{File: cur})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}

// TestRunReadTakesRunRead pins that GET /v1/runs/{id} takes run:read in the run's space and
// nothing more: a key holding run:read with run:update but not run:create, and one holding
// run:read with run:create but not run:update, both read the run.
// Guards against: GET /v1/runs/{id} checking run:create instead of run:read, control.go:get
// Guards against: GET /v1/runs/{id} checking run:update instead of run:read, control.go:get
func TestRunReadTakesRunRead(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	for _, secret := range []string{secretUpdate, secretCreate, secretCreateUpdate} {
		var got started
		if code, env := h.call(t, request{method: "GET", path: "/v1/runs/" + run.Run.ID, bearer: secret, out: &got}); code != http.StatusOK || got.Run.ID != run.Run.ID {
			t.Errorf("GET the run with key %q: %d %s, want 200 with the run", secret, code, env.Error.Message)
		}
	}
}

// TestAuditListingDefaultsToRoot pins that GET /v1/audit without ?space= lists root's
// subtree, so it takes audit:read on root: a key holding audit:read only on prod is refused
// (403), and a key holding it on root is served.
// Guards against: the default space of the audit listing not root, audit.go:listAudit
func TestAuditListingDefaultsToRoot(t *testing.T) {
	h := newRunsHarness(t)
	addAuditors(t, h)
	for _, tc := range []struct {
		secret, path string
		want         int
	}{
		{secretProdAuditor, "/v1/audit", http.StatusForbidden},
		{secretProdAuditor, "/v1/audit?space=prod", http.StatusOK},
		{secretRootAuditor, "/v1/audit", http.StatusOK},
	} {
		if code, env := h.call(t, request{method: "GET", path: tc.path, bearer: tc.secret}); code != tc.want {
			t.Errorf("GET %s with %q: %d %s, want %d", tc.path, tc.secret, code, env.Error.Message, tc.want)
		}
	}
}

// TestAuditUnknownSpaceOnlyToldToRootReaders pins that an audit listing of a space id that
// does not exist is refused like a space the key may not read (403) unless the key holds
// audit:read on root, which alone is told the space is unknown (404): a key bound lower down
// cannot probe which space ids exist.
// Guards against: unknown-space 404 given to every key, audit.go:listAudit
func TestAuditUnknownSpaceOnlyToldToRootReaders(t *testing.T) {
	h := newRunsHarness(t)
	addAuditors(t, h)
	for _, tc := range []struct {
		secret string
		want   int
	}{
		{secretProdAuditor, http.StatusForbidden},
		{secretCreateUpdate, http.StatusForbidden},
		{secretRootAuditor, http.StatusNotFound},
	} {
		if code, env := h.call(t, request{method: "GET", path: "/v1/audit?space=no-such-space", bearer: tc.secret}); code != tc.want {
			t.Errorf("GET /v1/audit?space=no-such-space with %q: %d %s, want %d", tc.secret, code, env.Error.Message, tc.want)
		}
	}
}
