package server

import "testing"

// A listing refuses a query parameter it does not take, and one given twice, naming it: on the
// old code GET /v1/audit?cursor=X (the parameter is after) answered the first page again, so a
// pager following it never ended, and GET /v1/stacks?labels=X listed every stack.
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
		{"/v1/stacks?labels=net", 400, []string{`"labels"`, "space, label"}},
		{"/v1/stacks?space=root&label=net", 200, nil},
		{"/v1/integrations?label=net", 400, []string{`"label"`}},
		{"/v1/roles?space=root", 400, []string{"takes no parameters"}},
		{"/v1/roles", 200, nil},
	} {
		ts.admin(t, "GET", tc.path, "").expect(t, "GET "+tc.path, tc.code, tc.holds...)
	}
}
