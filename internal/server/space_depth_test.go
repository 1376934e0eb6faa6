package server

import (
	"fmt"
	"testing"
)

// TestSpaceTooDeepIs400: a space placed too deep through the API is a 400 in the
// envelope naming the depth.
func TestSpaceTooDeepIs400(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	parent := "root"
	for i := 1; i <= 31; i++ {
		id := fmt.Sprintf("zd%d", i)
		if a := ts.admin(t, "PUT", "/v1/spaces/"+id, `{"parent":"`+parent+`"}`); a.code != 201 {
			t.Fatalf("%s: %d %s", id, a.code, a.body)
		}
		parent = id
	}
	a := ts.admin(t, "PUT", "/v1/spaces/zd32", `{"parent":"zd31"}`)
	if a.code != 400 || a.err.Error.Code != "invalid_request" {
		t.Errorf("33rd level: %d %s, want 400 invalid_request", a.code, a.body)
	}
	ts.admin(t, "PUT", "/v1/spaces/zm1", `{"parent":"root"}`).expect(t, "zm1", 201)
	ts.admin(t, "PUT", "/v1/spaces/zm2", `{"parent":"zm1"}`).expect(t, "zm2", 201)
	a = ts.admin(t, "PUT", "/v1/spaces/zm1", `{"parent":"zd30"}`)
	if a.code != 400 || a.err.Error.Code != "invalid_request" {
		t.Errorf("subtree moved too deep: %d %s, want 400 invalid_request", a.code, a.body)
	}
	t.Logf("%s", a.body)
}
