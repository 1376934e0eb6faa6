package emulator

import (
	"slices"
	"strings"
	"testing"
)

// TestAzureApplicationKeyedByClientIDAnyCase: two integrations naming one Entra
// application, its client id (a GUID, case-insensitive) written in two cases, are emulated as
// that one application: Entra holds one set of at most 20 federated credentials for it, so
// attachments needing 21 between them (three stacks at read and write, plus one) must not be
// emulated as two applications that each fit.
func TestAzureApplicationKeyedByClientIDAnyCase(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true}]
stacks:
  - {id: s1, space: prod, labels: [platform]}
  - {id: s2, space: prod, labels: [platform]}
  - {id: s3, space: prod, labels: [other]}
integrations:
  - id: az-lower
    space: prod
    azure:
      tenant_id: 00000000-0000-0000-0000-000000000001
      client_id: aaaaaaaa-0000-0000-0000-000000000002
    autoattach: [{label: platform, read: true, write: true}]
  - id: az-upper
    space: prod
    azure:
      tenant_id: 00000000-0000-0000-0000-000000000001
      client_id: AAAAAAAA-0000-0000-0000-000000000002
    autoattach: [{label: other, read: true, write: true}]
`)
	n := 0
	for _, app := range set.azureConfig.Apps {
		if strings.EqualFold(app.ClientID, "aaaaaaaa-0000-0000-0000-000000000002") {
			n += len(app.Federated)
		}
	}
	if n != 0 {
		t.Errorf("emulated %d federated credentials for one application that needs 21; "+
			"Entra holds 20, so it must not be emulated (notes %q)", n, set.Notes)
	}
	if !slices.ContainsFunc(set.Notes, func(note string) bool {
		return strings.Contains(note, "need 21 federated credentials")
	}) {
		t.Errorf("notes %q do not say the application, needing 21 credentials, is not emulated", set.Notes)
	}
}
