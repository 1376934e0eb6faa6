package emulator

import (
	"slices"
	"strings"
	"testing"
)

// TestAzureScopeOutsideTheTenantIsNoted: the emulated Entra tenants hold the default resources
// only, and refuse a scope naming another with AADSTS500011 as Entra does, so an integration
// whose scope names another resource gets a note saying why its tokens are refused; one with
// the default scope (Azure Resource Manager) or another default resource gets none.
// Guards against: fromconfig.go:azureApps an integration silently refused for its resource
func TestAzureScopeOutsideTheTenantIsNoted(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}, {id: c, space: root}]
integrations:
  - {id: az-arm, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
  - {id: az-graph, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000003, scope: "https://graph.microsoft.com/.default"}}
  - {id: az-typo, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000004, scope: "https://management.azure.co/.default"}}
attachments:
  - {stack: a, integration: az-arm, read: true}
  - {stack: b, integration: az-graph, read: true}
  - {stack: c, integration: az-typo, read: true}
`)
	noted := func(id string) bool {
		return slices.ContainsFunc(set.Notes, func(n string) bool {
			return strings.HasPrefix(n, "integration "+id+":") && strings.Contains(n, "AADSTS500011")
		})
	}
	if !noted("az-typo") {
		t.Errorf("notes %q do not say az-typo's scope names no resource of the tenant", set.Notes)
	}
	for _, id := range []string{"az-arm", "az-graph"} {
		if noted(id) {
			t.Errorf("notes %q say %s's scope names no resource of the tenant", set.Notes, id)
		}
	}
}
