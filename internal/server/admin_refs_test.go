package server

import "testing"

// TestAdminReferencesAndInUse: a reference to a missing object is 404; deleting an object in
// use (an integration attached directly or by its autoattach rules), or a change breaking
// one-read-one-write for a stack, is 409 naming the other object.
func TestAdminReferencesAndInUse(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	aws := func(space, role string) string {
		return `{"space":"` + space + `","aws":{"roleArn":"arn:aws:iam::123456789012:role/` + role + `"}}`
	}
	ts.admin(t, "PUT", "/v1/stacks/s", `{"space":"nowhere"}`).expect(t, "stack in a missing space", 404, `space "nowhere" does not exist`)
	ts.admin(t, "PUT", "/v1/spaces/s", `{"parent":"nowhere"}`).expect(t, "space under a missing parent", 404, `space "nowhere" does not exist`)
	ts.admin(t, "PUT", "/v1/integrations/i", `{"space":"nowhere","aws":{"roleArn":"arn:aws:iam::123456789012:role/x"}}`).
		expect(t, "integration in a missing space", 404, `space "nowhere" does not exist`)
	ts.admin(t, "POST", "/v1/api-keys", `{"id":"k","bindings":[{"role":"orchestrator","space":"nowhere"}]}`).
		expect(t, "key bound in a missing space", 404, `field "bindings[0].space": space "nowhere" does not exist`)
	ts.admin(t, "POST", "/v1/api-keys", `{"id":"k","bindings":[{"role":"orchestrator"}]}`).
		expect(t, "key bound in no space", 400, `field "bindings[0].space": required`)
	ts.admin(t, "PUT", "/v1/stacks/vpc-prod/attachments/nothing", `{"read":true}`).expect(t, "attach a missing integration", 404, `integration "nothing" does not exist`)
	ts.admin(t, "PUT", "/v1/stacks/nothing/attachments/x", `{"read":true}`).expect(t, "attach to a missing stack", 404)
	ts.admin(t, "POST", "/v1/api-keys", `{"id":"k","bindings":[{"role":"nothing","space":"prod"}]}`).expect(t, "bind a missing role", 404, `role "nothing" does not exist`)

	// An unknown action is invalid, not an action the caller lacks.
	ts.admin(t, "PUT", "/v1/roles/r", `{"actions":["run:read","run:fly"]}`).expect(t, "role with an unknown action", 400, "actions[1]", `unknown action "run:fly"`)

	// An answer names every field of the body, the empty ones too.
	ts.admin(t, "PUT", "/v1/spaces/team", `{"parent":"prod","inherit":true}`).expect(t, "space", 201,
		`{"space":{"id":"team","parent":"prod","inherit":true,"subjectTemplate":"","labels":[],"managedBy":"api","version":1}}`)
	ts.admin(t, "PUT", "/v1/stacks/dns", `{"space":"team","labels":["net"]}`).expect(t, "stack", 201)
	ts.admin(t, "PUT", "/v1/integrations/aws-w", aws("team", "w")).expect(t, "integration", 201)
	ts.admin(t, "PUT", "/v1/stacks/dns/attachments/aws-w", `{"write":true}`).expect(t, "attachment", 201, `"provider":"aws"`, `"source":"direct"`)
	ts.admin(t, "PUT", "/v1/roles/reader", `{"actions":["run:read"]}`).expect(t, "role", 201)
	ts.admin(t, "POST", "/v1/api-keys", `{"id":"reader-key","bindings":[{"role":"reader","space":"team"}]}`).expect(t, "key", 201)

	ts.admin(t, "DELETE", "/v1/spaces/team", "").expect(t, "delete a space holding a stack", 409, `stack "dns"`)
	ts.admin(t, "DELETE", "/v1/integrations/aws-w", "").expect(t, "delete an attached integration", 409, `stack "dns"`)
	ts.admin(t, "DELETE", "/v1/roles/reader", "").expect(t, "delete a bound role", 409, `API key "reader-key"`)
	ts.admin(t, "PUT", "/v1/integrations/aws-w2", `{"space":"team","aws":{"roleArn":"arn:aws:iam::123456789012:role/w2"},"autoattach":[{"label":"net","write":true}]}`).
		expect(t, "a second write attachment through autoattach", 409, `stack "dns" would have two write attachments for aws`)
	ts.admin(t, "PUT", "/v1/integrations/aws-w2", `{"space":"team","aws":{"roleArn":"arn:aws:iam::123456789012:role/w2"},"autoattach":[{"label":"net","read":true}]}`).
		expect(t, "a read attachment through autoattach", 201)
	ts.admin(t, "GET", "/v1/stacks/dns/attachments", "").expect(t, "attachments", 200,
		`{"stack":"dns","integration":"aws-w","provider":"aws","read":false,"write":true,"source":"direct","managedBy":"api","version":1}`,
		`{"stack":"dns","integration":"aws-w2","provider":"aws","read":true,"write":false,"source":"autoattach:net"}`)
	ts.admin(t, "PUT", "/v1/stacks/dns/attachments/aws-w2", `{"write":true}`).expect(t, "a second direct write attachment", 409, `stack "dns"`)
	// An integration attached by its autoattach rules is in use as much as a direct one.
	ts.admin(t, "DELETE", "/v1/integrations/aws-w2", "").expect(t, "delete an integration attached by autoattach", 409,
		`integration "aws-w2" is attached to stack "dns" (autoattach:net); remove its autoattach rules first`)
	ts.admin(t, "GET", "/v1/stacks/dns/attachments", "").expect(t, "attachments after the refusal", 200, `"integration":"aws-w2"`)

	// Deleting the stack takes its attachment along; then the rest can go.
	ts.admin(t, "DELETE", "/v1/stacks/dns", "").expect(t, "delete the stack", 204)
	ts.admin(t, "DELETE", "/v1/integrations/aws-w", "").expect(t, "delete the integration", 204)
	ts.admin(t, "DELETE", "/v1/integrations/aws-w2", "").expect(t, "delete the autoattach integration", 204)
	ts.admin(t, "DELETE", "/v1/api-keys/reader-key", "").expect(t, "delete the key", 204)
	ts.admin(t, "DELETE", "/v1/roles/reader", "").expect(t, "delete the role", 204)
	ts.admin(t, "DELETE", "/v1/spaces/team", "").expect(t, "delete the space", 204)
}
