package server

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog/catalogtest"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// spaceAdminSecret is the secret of sa-a, a key holding space:admin and run:read on team-a but
// neither run:create nor run:update, which attaching for write takes; rootSpaceAdminSecret
// is sa-root's, the same role on root.
const (
	spaceAdminSecret     = "sa-team-a-secret"
	rootSpaceAdminSecret = "sa-root-secret"
)

// leftOutConfig is adminConfig with the keys sa-a and sa-root.
var leftOutConfig = strings.NewReplacer(
	"roles:\n", "roles:\n  - {id: sa, actions: [space:admin, run:read]}\n",
	"api_keys:\n", "api_keys:\n  - {id: sa-a, secret_sha256: "+sha256Hex(spaceAdminSecret)+", bindings: [{role: sa, space: team-a}]}\n"+
		"  - {id: sa-root, secret_sha256: "+sha256Hex(rootSpaceAdminSecret)+", bindings: [{role: sa, space: root}]}\n",
).Replace(adminConfig)

// Objects an older build stored that the catalog in force leaves out.
var (
	// teamBLine is a line of team-b under a space whose subject template today's rules refuse
	// (placeholders not separated): the space b-apps, its stack b-web attached for write.
	teamBLine = []any{
		config.Space{ID: "b-old", Parent: "team-b", Inherit: true, SubjectTemplate: "{spaceId}{callerId}{scope}"},
		config.Space{ID: "b-apps", Parent: "b-old", Inherit: true},
		config.Stack{ID: "b-web", Space: "b-apps"},
		config.Integration{ID: "b-aws-write", Space: "b-apps", AWS: &config.AWS{Mode: "web-identity", RoleARN: "arn:aws:iam::123456789012:role/team-b-write"}},
		config.Attachment{Stack: "b-web", Integration: "b-aws-write", Read: true, Write: true},
	}
	// teamBLongGCP is a GCP integration of team-b lasting 13h.
	teamBLongGCP = []any{config.Integration{ID: "g-b", Space: "team-b", Duration: 13 * time.Hour, GCP: storedGCP}}
	// teamALongGCPWrite is a GCP integration of team-a lasting 13h, attached to app-a for write.
	teamALongGCPWrite = []any{
		config.Integration{ID: "g-a", Space: "team-a", Duration: 13 * time.Hour, GCP: storedGCP},
		config.Attachment{Stack: "app-a", Integration: "g-a", Write: true},
	}
	// ghostStack is a stack in a space that no longer exists.
	ghostStack = []any{config.Stack{ID: "ghost-web", Space: "ghost"}}
)

// gcpBody is the body of a GCP integration in space, lasting 1h, whose STS endpoint is sts
// (none when empty).
func gcpBody(space, sts string) string {
	extra := ""
	if sts != "" {
		extra = `,"stsEndpoint":"` + sts + `"`
	}
	return `{"space":"` + space + `","duration":"1h","gcp":{"workloadIdentityProvider":"` + storedGCP.WorkloadIdentityProvider +
		`","serviceAccount":"` + storedGCP.ServiceAccount + `"` + extra + `}}`
}

// TestLeftOutRepairTakesRootAdmin: a stored object left out of force can be replaced through
// the API only by a key holding every action on root, and a change by any other key that would
// bring a left-out object back into force is refused (409). The other checks do not see a
// left-out object, so they would take its replacement for a creation: a sibling team's admin
// would claim team-b's line and its write subject, and a key without run rights would bring a
// write attachment back. A refused change leaves the objects out of force.
func TestLeftOutRepairTakesRootAdmin(t *testing.T) {
	cases := []struct {
		name   string
		stored []any
		// secret, method, path and body are the change asked; status its answer.
		secret, path, body string
		status             int
		// after lists paths the root admin GETs after the change, with the status expected.
		after map[string]int
		// attached, when set, is whether app-a is attached to g-a after the change.
		attached *bool
	}{
		{name: "team-a's admin over team-b's left-out space", stored: teamBLine,
			secret: hereSecret, path: "/v1/spaces/b-apps", body: `{"parent":"team-a","inherit":true}`, status: 403,
			after: map[string]int{"/v1/spaces/b-apps": 404, "/v1/stacks/b-web": 404, "/v1/integrations/b-aws-write": 404}},
		{name: "team-a's admin over team-b's left-out integration", stored: teamBLongGCP,
			secret: hereSecret, path: "/v1/integrations/g-b", body: gcpBody("team-a", ""), status: 403,
			after: map[string]int{"/v1/integrations/g-b": 404}},
		{name: "team-b's own admin over its left-out integration", stored: teamBLongGCP,
			secret: siblingSecret, path: "/v1/integrations/g-b", body: gcpBody("team-b", ""), status: 403,
			after: map[string]int{"/v1/integrations/g-b": 404}},
		{name: "space:admin without run rights over its left-out integration attached for write", stored: teamALongGCPWrite,
			secret: spaceAdminSecret, path: "/v1/integrations/g-a", body: gcpBody("team-a", "https://sts.attacker.example"), status: 403,
			after: map[string]int{"/v1/integrations/g-a": 404}, attached: new(false)},
		{name: "space:admin on root without run rights over a left-out integration attached for write", stored: teamALongGCPWrite,
			secret: rootSpaceAdminSecret, path: "/v1/integrations/g-a", body: gcpBody("team-a", "https://sts.attacker.example"), status: 403,
			after: map[string]int{"/v1/integrations/g-a": 404}, attached: new(false)},
		{name: "space:admin on root without run rights creating the space a left-out stack is in", stored: ghostStack,
			secret: rootSpaceAdminSecret, path: "/v1/spaces/ghost", body: `{"parent":"team-a"}`, status: 409,
			after: map[string]int{"/v1/spaces/ghost": 404, "/v1/stacks/ghost-web": 404}},
		{name: "team-a's admin creating the space a left-out stack is in", stored: ghostStack,
			secret: hereSecret, path: "/v1/spaces/ghost", body: `{"parent":"team-a"}`, status: 409,
			after: map[string]int{"/v1/spaces/ghost": 404, "/v1/stacks/ghost-web": 404}},
		{name: "the root admin over a left-out integration attached for write", stored: teamALongGCPWrite,
			secret: rootAdminSecret, path: "/v1/integrations/g-a", body: gcpBody("team-a", ""), status: 200,
			after: map[string]int{"/v1/integrations/g-a": 200}, attached: new(true)},
		{name: "the root admin creating the space a left-out stack is in", stored: ghostStack,
			secret: rootAdminSecret, path: "/v1/spaces/ghost", body: `{"parent":"team-a"}`, status: 201,
			after: map[string]int{"/v1/spaces/ghost": 200, "/v1/stacks/ghost-web": 200}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			redis := redistest.Start(t)
			plantStored(t, redis.URL(), tc.stored)
			ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: leftOutConfig})
			for path := range tc.after {
				if code := ts.call(t, apiRequest{method: "GET", path: path, bearer: rootAdminSecret}); code != 404 {
					t.Fatalf("before the change, GET %s = %d, want 404 (left out)", path, code)
				}
			}
			if code := ts.call(t, apiRequest{method: "PUT", path: tc.path, bearer: tc.secret, body: tc.body}); code != tc.status {
				t.Errorf("PUT %s = %d, want %d", tc.path, code, tc.status)
			}
			for path, want := range tc.after {
				if code := ts.call(t, apiRequest{method: "GET", path: path, bearer: rootAdminSecret}); code != want {
					t.Errorf("after the change, GET %s = %d, want %d", path, code, want)
				}
			}
			if tc.attached != nil {
				if got := attachedTo(t, ts, "app-a", "g-a"); got != *tc.attached {
					t.Errorf("after the change, app-a attached to g-a: %v, want %v", got, *tc.attached)
				}
			}
		})
	}
}

// attachedTo reports whether the root admin's listing of stack's attachments holds integration.
func attachedTo(t *testing.T, ts *testServer, stack, integration string) bool {
	t.Helper()
	var list struct {
		Attachments []struct {
			Integration string `json:"integration"`
		} `json:"attachments"`
	}
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/stacks/" + stack + "/attachments", bearer: rootAdminSecret, out: &list}); code != 200 {
		t.Fatalf("GET the attachments of %s = %d", stack, code)
	}
	for _, a := range list.Attachments {
		if a.Integration == integration {
			return true
		}
	}
	return false
}

// plantStored writes objs into the Redis at url, each at version 1, as an older build did.
func plantStored(t *testing.T, url string, objs []any) {
	t.Helper()
	client, err := redisstore.Open(redisstore.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	catalogtest.Seed(t, client.Catalog(), objs...)
}

// TestLeftOutRepairRefusalSaysWhy: a root key lacking one action (here audit:read) may not
// replace a left-out object, and the refusal says that this takes every action on root rather
// than naming a grant the request does not make.
func TestLeftOutRepairRefusalSaysWhy(t *testing.T) {
	const opsSecret = "ops-root-secret"
	cfg := strings.NewReplacer(
		"roles:\n", "roles:\n  - {id: ops, actions: [space:admin, run:create, run:read, run:update]}\n",
		"api_keys:\n", "api_keys:\n  - {id: ops-root, secret_sha256: "+sha256Hex(opsSecret)+", bindings: [{role: ops, space: root}]}\n",
	).Replace(adminConfig)
	redis := redistest.Start(t)
	plantStored(t, redis.URL(), teamALongGCPWrite)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", baseYAML: cfg})
	var env envelope
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/integrations/g-a", bearer: opsSecret, body: gcpBody("team-a", ""), out: &env}); code != 403 {
		t.Fatalf("PUT of the left-out g-a by a root key without audit:read = %d, want 403", code)
	}
	if msg := env.Error.Message; !strings.Contains(msg, "left out of force") || !strings.Contains(msg, "every action on root") || strings.Contains(msg, "grant") {
		t.Errorf("refusal %q, want it to say that replacing an object left out of force takes every action on root", msg)
	}
	if code := ts.call(t, apiRequest{method: "PUT", path: "/v1/integrations/g-new", bearer: opsSecret, body: gcpBody("team-a", "")}); code != 201 {
		t.Errorf("PUT of a new integration by the same key = %d, want 201", code)
	}
}
