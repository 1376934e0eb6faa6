package emulator

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestAzureApplicationKeyedByClientIDAnyCase: two integrations naming one Entra application,
// its client id (a GUID, case-insensitive) written in two cases, or its tenant once as a GUID
// and once as a domain name, are emulated as that one application, as `broker trust azure`
// counts it by its client id: Entra holds one set of at most 20 federated credentials for it, so
// attachments needing 21 between them (three stacks at read and write, plus one) must not be
// emulated as two applications that each fit.
func TestAzureApplicationKeyedByClientIDAnyCase(t *testing.T) {
	const client = "aaaaaaaa-0000-0000-0000-000000000002"
	for _, tc := range []struct{ name, tenant2, client2 string }{
		{"client id in two cases", "00000000-0000-0000-0000-000000000001", strings.ToUpper(client)},
		{"tenant as a GUID and as a domain", "contoso.onmicrosoft.com", client},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := fromYAML(t, fmt.Sprintf(`issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true}]
stacks:
  - {id: s1, space: prod, labels: [platform]}
  - {id: s2, space: prod, labels: [platform]}
  - {id: s3, space: prod, labels: [other]}
integrations:
  - id: az-one
    space: prod
    azure:
      tenant_id: 00000000-0000-0000-0000-000000000001
      client_id: %s
    autoattach: [{label: platform, read: true, write: true}]
  - id: az-two
    space: prod
    azure:
      tenant_id: %s
      client_id: %s
    autoattach: [{label: other, read: true, write: true}]
`, client, tc.tenant2, tc.client2))
			if n := azureCredentialsOf(set, client); n != 0 {
				t.Errorf("emulated %d federated credentials for one application that needs 21; "+
					"Entra holds 20, so it must not be emulated (notes %q)", n, set.Notes)
			}
			if !slices.ContainsFunc(set.Notes, func(note string) bool {
				return strings.Contains(note, "need 21 federated credentials")
			}) {
				t.Errorf("notes %q do not say the application, needing 21 credentials, is not emulated", set.Notes)
			}
		})
	}
}
