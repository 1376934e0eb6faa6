package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestListingFilteredByAncestorSpace: a listing shows each object a binding of the key
// covers (contract section 8, "any binding covering the stack's space"), and ?space=ID keeps
// those of ID's subtree. So a key bound on team-a (under prod, under root) that lists
// ?space=prod or ?space=root gets its own stacks, as it does with no filter: the filter
// narrows the listing, and the key already reads prod's id as team-a's parent. A 404 "no
// space that this key may read" is not that.
func TestListingFilteredByAncestorSpace(t *testing.T) {
	e, _ := refusalsEnv(t)
	for _, tc := range []adminCase{
		{name: "stacks of the parent's subtree", key: "a-admin", method: "GET",
			path: "/v1/stacks?space=prod", status: 200, holds: `"id":"app"`, absent: `"id":"bee"`},
		{name: "stacks of root's subtree", key: "a-admin", method: "GET",
			path: "/v1/stacks?space=root", status: 200, holds: `"id":"app"`, absent: `"id":"bee"`},
		{name: "integrations of the parent's subtree", key: "a-admin", method: "GET",
			path: "/v1/integrations?space=prod", status: 200, holds: `"id":"aws-l"`,
			absent: `"id":"aws-b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, e.serve(tc.key, httptest.NewRequest(tc.method, tc.path, nil)))
		})
	}
	w := e.serve("a-admin", httptest.NewRequest(http.MethodGet, "/v1/spaces/team-a", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"parent":"prod"`) {
		t.Fatalf("GET /v1/spaces/team-a: %d %s, want it to name its parent prod", w.Code, w.Body)
	}
}
