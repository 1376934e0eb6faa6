package server

import (
	"fmt"
	"strings"
	"testing"
)

// TestAdminAutoattachOnePerStack: through the API, an integration repeating an autoattach label
// and a stack carrying more labels than a stack may are refused at the field, and the rules of
// one integration matching a stack make one attachment with the read and write of them all.
func TestAdminAutoattachOnePerStack(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	const arn = `"aws":{"roleArn":"arn:aws:iam::123456789012:role/auto"}`
	ts.admin(t, "PUT", "/v1/integrations/auto", `{"space":"prod",`+arn+`,"autoattach":[{"label":"net","read":true},{"label":"net","read":true}]}`).
		expect(t, "a repeated autoattach label", 400, `field "autoattach[1].label"`, `duplicate autoattach label "net"`)
	labels := make([]string, 65)
	for j := range labels {
		labels[j] = fmt.Sprintf(`"l-%d"`, j)
	}
	ts.admin(t, "PUT", "/v1/stacks/many", `{"space":"prod","labels":[`+strings.Join(labels, ",")+`]}`).
		expect(t, "a stack with 65 labels", 400, `field "labels"`, "a stack carries at most 64")

	ts.admin(t, "PUT", "/v1/stacks/dns", `{"space":"prod","labels":["dns","net"]}`).expect(t, "stack", 201)
	ts.admin(t, "PUT", "/v1/integrations/auto", `{"space":"prod",`+arn+`,"autoattach":[{"label":"net","read":true},{"label":"dns","write":true}]}`).
		expect(t, "integration", 201)
	a := ts.admin(t, "GET", "/v1/stacks/dns/attachments", "")
	a.expect(t, "attachments", 200, `{"stack":"dns","integration":"auto","provider":"aws","read":true,"write":true,"source":"autoattach:net"}`)
	if n := strings.Count(a.body, `"integration":"auto"`); n != 1 {
		t.Errorf("stack dns lists %d attachments of integration auto, want 1: %s", n, a.body)
	}
}
