package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestTemplateShareRefusalNamesNoHiddenAncestor: a template-share refusal tells the caller
// nothing of spaces its bindings do not cover beyond the parent it holds space:admin on: a key
// bound on a space under team-a does not learn the id "prod", nor that prod's subtree is full
// of team-b's templates, as the catalog's own share refusal withholds the ancestor.
func TestTemplateShareRefusalNamesNoHiddenAncestor(t *testing.T) {
	file := adminTestFile()
	file.Spaces = append(file.Spaces, config.Space{ID: "a-sub", Parent: "team-a"})
	for i := range config.SubtreeTemplateShare(1) { // prod's share, filled by team-b alone
		file.Spaces = append(file.Spaces, config.Space{
			ID: fmt.Sprintf("b%d", i), Parent: "team-b", SubjectTemplate: ownTemplate(i)})
	}
	file.APIKeys = append(file.APIKeys,
		adminTestKey("sub-all", config.Binding{Role: "all", Space: "a-sub"}))
	e := newAdminEnv(t, file, &keptEvents{})
	get := httptest.NewRequest(http.MethodGet, "/v1/spaces/team-a", nil)
	if w := e.serve("sub-all", get); w.Code == http.StatusOK {
		t.Fatalf("setup: the key reads team-a: %s", w.Body)
	}
	body := `{"parent":"a-sub","subjectTemplate":"` + ownTemplate(900) + `"}`
	w := e.put("sub-all", "/v1/spaces/new-space", body)
	if w.Code != http.StatusBadRequest {
		t.Fatalf("PUT: %d %s, want 400 (prod's share is full)", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), `\"prod\"`) {
		t.Errorf("the refusal names space prod, which key sub-all may not see: %s", w.Body)
	}
}
