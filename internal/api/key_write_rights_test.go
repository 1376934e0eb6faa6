package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestKeyListingNeedsSpaceAdmin pins that GET /v1/api-keys shows a key only with its bindings on
// spaces where the caller holds space:admin: a key holding run:read alone on team-a (a binding that
// covers team-a) lists no key at all, not even itself, and team-a's admin sees team-a's bindings
// but not boss's binding on root.
// Guards against: listing filtered by a covering binding instead of space:admin,
// admin_keys.go:administered
func TestKeyListingNeedsSpaceAdmin(t *testing.T) {
	file := adminTestFile()
	file.APIKeys = append(file.APIKeys, adminTestKey("a-reader", config.Binding{Role: "reader", Space: "team-a"}))
	e := newAdminEnv(t, file, &keptEvents{})
	for _, tc := range []struct {
		key  string
		want []string // "id@space" of every binding shown
	}{
		{"a-reader", nil},
		{"a-admin", []string{"a-admin@team-a", "a-all@team-a", "a-reader@team-a"}},
	} {
		w := e.serve(tc.key, httptest.NewRequest(http.MethodGet, "/v1/api-keys", nil))
		var body struct {
			APIKeys []struct {
				ID       string           `json:"id"`
				Bindings []config.Binding `json:"bindings"`
			} `json:"apiKeys"`
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &body) != nil {
			t.Fatalf("GET /v1/api-keys as %s: %d %s", tc.key, w.Code, w.Body)
		}
		var got []string
		for _, k := range body.APIKeys {
			for _, b := range k.Bindings {
				got = append(got, k.ID+"@"+b.Space)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("GET /v1/api-keys as %s shows %v, want %v", tc.key, got, tc.want)
		}
	}
}

// TestWriteAttachmentTakesRunCreateToo pins that attaching an integration to a stack for
// write takes, besides space:admin, both run:create and run:update in the stack's space (what a
// write-scope token stands for): a key holding space:admin and run:update there but not
// run:create is refused (403), and a key holding every action there is served.
// Guards against: run:create dropped from the write-token actions, admin_write.go:writeTokenActions
func TestWriteAttachmentTakesRunCreateToo(t *testing.T) {
	file := adminTestFile()
	file.Roles = append(file.Roles, config.Role{ID: "admin-mover", Actions: []string{config.ActionSpaceAdmin, config.ActionRunUpdate, config.ActionRunRead}})
	file.APIKeys = append(file.APIKeys, adminTestKey("a-mover", config.Binding{Role: "admin-mover", Space: "team-a"}))
	e := newAdminEnv(t, file, &keptEvents{})
	for _, step := range []struct{ path, body string }{
		{"/v1/stacks/app", `{"space":"team-a"}`},
		{"/v1/integrations/aws-a", `{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/a"}}`},
	} {
		if w := e.put("boss", step.path, step.body); w.Code != http.StatusCreated {
			t.Fatalf("setup PUT %s: %d %s", step.path, w.Code, w.Body)
		}
	}
	if w := e.put("a-mover", "/v1/stacks/app/attachments/aws-a", `{"write":true}`); w.Code != http.StatusForbidden {
		t.Errorf("write attachment by a key without run:create: %d %s, want 403", w.Code, w.Body)
	}
	if w := e.put("a-all", "/v1/stacks/app/attachments/aws-a", `{"write":true}`); w.Code != http.StatusCreated {
		t.Errorf("write attachment by a key holding every action: %d %s, want 201", w.Code, w.Body)
	}
}
