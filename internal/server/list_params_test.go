package server

import (
	"strings"
	"testing"
)

// A listing refuses a query parameter it does not take, and one given twice, naming it: on the
// old code GET /v1/audit?cursor=X (the parameter is after) answered the first page again, so a
// pager following it never ended, GET /v1/stacks?labels=X listed every stack, and GET
// /v1/spaces?space=X listed every space.
func TestListingsRefuseUnknownParameters(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	for _, tc := range []struct {
		path  string
		code  int
		holds []string
	}{
		{"/v1/audit?space=root&cursor=5", 400, []string{`unknown query parameter "cursor"`, "space, after, limit"}},
		{"/v1/audit?space=root&after=5&after=6", 400, []string{`"after" is given 2 times`}},
		{"/v1/audit?space=root&limit=1", 200, nil},
		{"/v1/stacks?labels=net", 400, []string{`"labels"`, "takes only space, label."}},
		{"/v1/stacks?labels=", 400, []string{`"labels"`}},
		{"/v1/stacks?space=root&label=net", 200, nil},
		{"/v1/integrations?label=net", 400, []string{`"label"`}},
		{"/v1/roles?space=root", 400, []string{"takes no parameters"}},
		{"/v1/roles", 200, nil},
		{"/v1/api-keys?space=prod", 400, []string{"takes no parameters"}},
		{"/v1/stacks/vpc-prod/attachments?integration=x", 400, []string{"takes no parameters"}},
		{"/v1/spaces?spaces=prod", 400, []string{"only space"}},
	} {
		ts.admin(t, "GET", tc.path, "").expect(t, "GET "+tc.path, tc.code, tc.holds...)
	}
	// A space lists its subtree, as the stacks and integrations of a space do.
	a := ts.admin(t, "GET", "/v1/spaces?space=team-b", "")
	a.expect(t, "GET /v1/spaces?space=team-b", 200, `"id":"team-b"`)
	if strings.Contains(a.body, `"id":"root"`) || strings.Contains(a.body, `"id":"team-a"`) {
		t.Errorf("GET /v1/spaces?space=team-b lists spaces outside team-b's subtree: %s", a.body)
	}
}
