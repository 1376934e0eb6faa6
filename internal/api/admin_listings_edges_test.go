package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
)

// TestAdminListingsShowWhatTheKeyMayRead checks the administration listings: without a
// filter a key sees only objects whose space one of its bindings covers (roles aside), and
// ?space=ID lists the objects of that space's whole subtree, not only of the space itself.
// Guards against: admin_kinds.go: list drops the per-object readability check
// Guards against: admin_kinds.go: inSubtree asks the reverse (the space within the object's home)
func TestAdminListingsShowWhatTheKeyMayRead(t *testing.T) {
	e, _ := refusalsEnv(t)
	for _, tc := range []adminCase{
		{name: "own stacks only", key: "a-admin", method: "GET", path: "/v1/stacks", status: 200,
			holds: `"id":"app"`, absent: `"id":"bee"`},
		{name: "own integrations only", key: "a-admin", method: "GET", path: "/v1/integrations",
			status: 200, holds: `"id":"aws-l"`, absent: `"id":"aws-b"`},
		{name: "own spaces only", key: "a-admin", method: "GET", path: "/v1/spaces", status: 200,
			holds: `"id":"team-a"`, absent: `"id":"team-b"`},
		{name: "stacks of a subtree", key: "boss", method: "GET", path: "/v1/stacks?space=prod",
			status: 200, holds: `"id":"app"`},
		{name: "integrations of a subtree", key: "boss", method: "GET",
			path: "/v1/integrations?space=prod", status: 200, holds: `"id":"aws-l"`},
		{name: "spaces of a subtree", key: "boss", method: "GET", path: "/v1/spaces?space=prod",
			status: 200, holds: `"id":"team-b"`},
		{name: "a subtree leaves its siblings out", key: "boss", method: "GET",
			path: "/v1/stacks?space=team-a", status: 200, holds: `"id":"app"`, absent: `"id":"bee"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, e.serve(tc.key, httptest.NewRequest(tc.method, tc.path, nil)))
		})
	}
}

// TestAdminPutAnswersAsGetShows checks that a PUT answers the object exactly as a GET then
// shows it, with the defaults the catalog gave it (an AWS integration's mode, its timeout),
// and the same ETag.
// Guards against: admin_kinds.go: the put answers the body as sent instead of the object stored
func TestAdminPutAnswersAsGetShows(t *testing.T) {
	e, _ := refusalsEnv(t)
	put := e.put("boss", "/v1/integrations/aws-new",
		`{"space":"team-a","aws":{"roleArn":"arn:aws:iam::123456789012:role/new"}}`)
	if put.Code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", put.Code, put.Body)
	}
	get := e.serve("boss", httptest.NewRequest(http.MethodGet, "/v1/integrations/aws-new", nil))
	if get.Code != http.StatusOK {
		t.Fatalf("GET: %d %s", get.Code, get.Body)
	}
	if put.Body.String() != get.Body.String() || put.Header().Get("ETag") != get.Header().Get("ETag") {
		t.Errorf("PUT answered %s (ETag %s), GET shows %s (ETag %s)", put.Body,
			put.Header().Get("ETag"), get.Body, get.Header().Get("ETag"))
	}
	if !strings.Contains(put.Body.String(), `"mode":"web-identity"`) {
		t.Errorf("PUT answer lacks the default AWS mode: %s", put.Body)
	}
}

// TestIfMatchEmptyAndRepeatedTags checks three If-Match forms: "*" (with or without
// surrounding space) asks only that the object exist (AnyVersion); the empty quoted tag "" (a
// well-formed entity tag that names no version) never matches (NeverVersion, 412 once checked,
// not 400), weak or not; and a version named twice is that one version, as if named once.
// Guards against: admin_preconditions.go: quoted len(digits) >= 2 -> > 2 ("" refused as malformed)
// Guards against: admin_preconditions.go: repeated versions not folded into one
// Guards against: admin_preconditions.go: "*" no longer read as AnyVersion
func TestIfMatchEmptyAndRepeatedTags(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   preconditions
	}{
		{header: `*`, want: preconditions{ifMatch: catalog.AnyVersion}},
		{header: ` * `, want: preconditions{ifMatch: catalog.AnyVersion}},
		{header: `""`, want: preconditions{ifMatch: catalog.NeverVersion}},
		{header: `W/""`, want: preconditions{ifMatch: catalog.NeverVersion}},
		{header: `"", "5"`, want: preconditions{ifMatch: 5}},
		{header: `"3", "3"`, want: preconditions{ifMatch: 3}},
		{header: `"3", W/"4", "3", "4"`, want: preconditions{oneOf: []int64{3, 4}}},
	} {
		pre, err := ifMatch(&http.Request{Header: http.Header{"If-Match": {tc.header}}})
		if err != nil || pre.ifMatch != tc.want.ifMatch || !slices.Equal(pre.oneOf, tc.want.oneOf) {
			t.Errorf("If-Match %s = %+v, %v; want %+v", tc.header, pre, err, tc.want)
		}
	}
}
