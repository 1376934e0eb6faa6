package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// sameMessageObjects are the objects both the file and the API start from; ADMIN_SHA is the
// root admin key's hash.
const sameMessageObjects = `
spaces:
  - {id: root}
  - {id: prod, parent: root, inherit: true}
  - {id: dev, parent: root}
stacks:
  - {id: vpc, space: prod}
  - {id: dev-app, space: dev}
integrations:
  - {id: aws-prod, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/prod"}}
roles:
  - {id: admin, actions: [run:create, run:read, run:update, audit:read, space:admin]}
api_keys:
  - {id: root-admin, secret_sha256: ADMIN_SHA, bindings: [{role: admin, space: root}]}
`

// withFirst puts item first in the file's list (adding the list when the file has none).
func withFirst(objects, list, item string) string {
	head := "\n" + list + ":\n"
	if strings.Contains(objects, head) {
		return strings.Replace(objects, head, head+"  - "+item+"\n", 1)
	}
	return objects + list + ":\n  - " + item + "\n"
}

// TestInvalidObjectsSameMessage feeds each invalid object to the file loader and to the API:
// the API refuses it with the status the contract gives, naming the field the loader names,
// with the loader's message.
func TestInvalidObjectsSameMessage(t *testing.T) {
	objects := strings.ReplaceAll(sameMessageObjects, "ADMIN_SHA", sha256Hex(rootAdminSecret))
	ts := startServer(t, serverOptions{baseYAML: "issuer: ISSUER\nlisten: 127.0.0.1:0\nkeys: {backend: BACKEND}\n" + objects})
	const arn = `arn:aws:iam::123456789012:role/x`
	tests := []struct {
		name       string
		list, yaml string // the object as the file's list holds it
		path, body string // the same object PUT through the API
		status     int
	}{
		{"bad id", "stacks", `{id: Bad_Id, space: prod}`,
			"/v1/stacks/Bad_Id", `{"space":"prod"}`, 400},
		{"stack without a space", "stacks", `{id: s}`,
			"/v1/stacks/s", `{"labels":["net"]}`, 400},
		{"stack in a missing space", "stacks", `{id: s, space: gone}`,
			"/v1/stacks/s", `{"space":"gone"}`, 404},
		{"bad stack label", "stacks", `{id: s, space: prod, labels: [Net]}`,
			"/v1/stacks/s", `{"space":"prod","labels":["Net"]}`, 400},
		{"duplicate stack label", "stacks", `{id: s, space: prod, labels: [net, net]}`,
			"/v1/stacks/s", `{"space":"prod","labels":["net","net"]}`, 400},
		{"labels not a list", "stacks", `{id: s, space: prod, labels: net}`,
			"/v1/stacks/s", `{"space":"prod","labels":"net"}`, 400},
		{"unknown key", "stacks", `{id: s, space: prod, lables: [net]}`,
			"/v1/stacks/s", `{"space":"prod","lables":["net"]}`, 400},
		{"unknown placeholder", "spaces", `{id: s, parent: prod, subject_template: "space:{spaceId}:stack:{callerId}:x:{nope}:scope:{scope}"}`,
			"/v1/spaces/s", `{"parent":"prod","subjectTemplate":"space:{spaceId}:stack:{callerId}:x:{nope}:scope:{scope}"}`, 400},
		{"template without scope", "spaces", `{id: s, parent: prod, subject_template: "space:{spaceId}:stack:{callerId}:run:{runId}"}`,
			"/v1/spaces/s", `{"parent":"prod","subjectTemplate":"space:{spaceId}:stack:{callerId}:run:{runId}"}`, 400},
		{"unbalanced brace", "spaces", `{id: s, parent: prod, subject_template: "space:{spaceId:scope:{scope}"}`,
			"/v1/spaces/s", `{"parent":"prod","subjectTemplate":"space:{spaceId:scope:{scope}"}`, 400},
		{"space without a parent", "spaces", `{id: s}`,
			"/v1/spaces/s", `{"inherit":true}`, 400},
		{"unknown parent", "spaces", `{id: s, parent: gone}`,
			"/v1/spaces/s", `{"parent":"gone"}`, 404},
		{"bad space label", "spaces", `{id: s, parent: prod, labels: ["a b"]}`,
			"/v1/spaces/s", `{"parent":"prod","labels":["a b"]}`, 400},
		{"inherit not a boolean", "spaces", `{id: s, parent: prod, inherit: maybe}`,
			"/v1/spaces/s", `{"parent":"prod","inherit":"maybe"}`, 400},
		{"autoattach neither read nor write", "integrations", `{id: i, space: prod, aws: {role_arn: "` + arn + `"}, autoattach: [{label: net}]}`,
			"/v1/integrations/i", `{"space":"prod","aws":{"roleArn":"` + arn + `"},"autoattach":[{"label":"net"}]}`, 400},
		{"autoattach bad label", "integrations", `{id: i, space: prod, aws: {role_arn: "` + arn + `"}, autoattach: [{label: Net, read: true}]}`,
			"/v1/integrations/i", `{"space":"prod","aws":{"roleArn":"` + arn + `"},"autoattach":[{"label":"Net","read":true}]}`, 400},
		{"two providers", "integrations", `{id: i, space: prod, aws: {role_arn: "` + arn + `"}, vault: {address: "https://vault.example.com", role: r}}`,
			"/v1/integrations/i", `{"space":"prod","aws":{"roleArn":"` + arn + `"},"vault":{"address":"https://vault.example.com","role":"r"}}`, 400},
		{"integration without a space", "integrations", `{id: i, aws: {role_arn: "` + arn + `"}}`,
			"/v1/integrations/i", `{"aws":{"roleArn":"` + arn + `"}}`, 400},
		{"no provider", "integrations", `{id: i, space: prod}`,
			"/v1/integrations/i", `{"space":"prod"}`, 400},
		{"bad role arn", "integrations", `{id: i, space: prod, aws: {role_arn: "role/x"}}`,
			"/v1/integrations/i", `{"space":"prod","aws":{"roleArn":"role/x"}}`, 400},
		{"unknown aws mode", "integrations", `{id: i, space: prod, aws: {mode: sideways, role_arn: "` + arn + `"}}`,
			"/v1/integrations/i", `{"space":"prod","aws":{"mode":"sideways","roleArn":"` + arn + `"}}`, 400},
		{"gcp bad service account", "integrations", `{id: i, space: prod, gcp: {workload_identity_provider: "projects/1/locations/global/workloadIdentityPools/pool/providers/prov", service_account: "nobody"}}`,
			"/v1/integrations/i", `{"space":"prod","gcp":{"workloadIdentityProvider":"projects/1/locations/global/workloadIdentityPools/pool/providers/prov","serviceAccount":"nobody"}}`, 400},
		{"azure authority over http", "integrations", `{id: i, space: prod, azure: {tenant_id: "00000000-0000-0000-0000-000000000000", client_id: "00000000-0000-0000-0000-000000000001", authority_host: "http://login.example.com"}}`,
			"/v1/integrations/i", `{"space":"prod","azure":{"tenantId":"00000000-0000-0000-0000-000000000000","clientId":"00000000-0000-0000-0000-000000000001","authorityHost":"http://login.example.com"}}`, 400},
		{"bad duration", "integrations", `{id: i, space: prod, duration: soon, aws: {role_arn: "` + arn + `"}}`,
			"/v1/integrations/i", `{"space":"prod","duration":"soon","aws":{"roleArn":"` + arn + `"}}`, 400},
		{"bad role action", "roles", `{id: r, actions: [run:fly]}`,
			"/v1/roles/r", `{"actions":["run:fly"]}`, 400},
		{"role without actions", "roles", `{id: r, actions: []}`,
			"/v1/roles/r", `{"actions":[]}`, 400},
		{"attachment neither read nor write", "attachments", `{stack: vpc, integration: aws-prod}`,
			"/v1/stacks/vpc/attachments/aws-prod", `{"read":false}`, 400},
		{"attachment of an unusable integration", "attachments", `{stack: dev-app, integration: aws-prod, read: true}`,
			"/v1/stacks/dev-app/attachments/aws-prod", `{"read":true}`, 400},
		{"attachment of a missing integration", "attachments", `{stack: vpc, integration: gone, read: true}`,
			"/v1/stacks/vpc/attachments/gone", `{"read":true}`, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("same.yaml", []byte("issuer: http://127.0.0.1:8080\n"+withFirst(objects, tt.list, tt.yaml)))
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("the file loader accepts the object: %v", err)
			}
			var fe *config.FieldError
			for _, e := range errs {
				if e.Path == tt.list+"[0]" || strings.HasPrefix(e.Path, tt.list+"[0].") {
					fe = e
					break
				}
			}
			if fe == nil {
				t.Fatalf("the file loader names no problem of %s[0]: %v", tt.list, err)
			}
			a := ts.admin(t, "PUT", tt.path, tt.body)
			if a.code != tt.status {
				t.Fatalf("API: %d, want %d: %s (file: %s)", a.code, tt.status, a.body, fe.Msg)
			}
			msg := a.err.Error.Message
			if !strings.Contains(msg, fe.Msg) && !strings.Contains(msg, capitalizeFirst(fe.Msg)) {
				t.Errorf("API message %q does not hold the file's %q", msg, fe.Msg)
			}
			if field := config.CamelPath(strings.TrimPrefix(strings.TrimPrefix(fe.Path, tt.list+"[0]"), ".")); field != "" && !strings.Contains(msg, `"`+field+`"`) {
				t.Errorf("API message %q does not name the field %q (file: %s)", msg, field, fe.Path)
			}
		})
	}
}

func capitalizeFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
