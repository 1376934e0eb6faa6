package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestListingFilterHidesUnreadAncestors: a listing's ?space= answers a space the key may
// not read like one that does not exist (404), so that a key learns no id outside its reach.
// A key bound only on deep (under team-a, under prod) reads deep and, as deep's parent, the id
// team-a; it never reads prod's id, so ?space=prod must be answered as ?space=no-such is,
// or the filter tells it which ids are its grandparents.
func TestListingFilterHidesUnreadAncestors(t *testing.T) {
	file := adminTestFile()
	file.Spaces = append(file.Spaces, config.Space{ID: "deep", Parent: "team-a"})
	file.Stacks = append(file.Stacks, config.Stack{ID: "deep-app", Space: "deep"})
	file.APIKeys = append(file.APIKeys,
		adminTestKey("deep-admin", config.Binding{Role: "admin", Space: "deep"}))
	e := newAdminEnv(t, file, &keptEvents{})
	get := func(path string) int {
		return e.serve("deep-admin", httptest.NewRequest(http.MethodGet, path, nil)).Code
	}
	if code := get("/v1/spaces/team-a"); code != http.StatusNotFound {
		t.Fatalf("GET /v1/spaces/team-a by a key bound on deep: %d, want 404", code)
	}
	for _, kind := range []string{"spaces", "stacks", "integrations"} {
		unknown := get("/v1/" + kind + "?space=no-such")
		if got := get("/v1/" + kind + "?space=prod"); got != unknown {
			t.Errorf("GET /v1/%s?space=prod by a key bound on deep: %d, but %d for a space "+
				"that does not exist: the answer tells prod is one of its ancestors",
				kind, got, unknown)
		}
	}
}
