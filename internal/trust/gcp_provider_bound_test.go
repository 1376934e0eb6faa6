package trust

import (
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// twoBrokerConfig is stack a of root attached for write to a GCP integration whose
// provider is provider in pool "shared", for a broker whose issuer is issuer.
func twoBrokerConfig(t *testing.T, issuer, provider string) string {
	t.Helper()
	return `issuer: ` + issuer + `
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - id: g
    space: root
    gcp:
      service_account: deployer@p.iam.gserviceaccount.com
      workload_identity_provider: ` +
		`projects/1/locations/global/workloadIdentityPools/shared/providers/` + provider + `
attachments:
  - {stack: a, integration: g, write: true}
`
}

// TestGCPBindingBoundToItsProvider: a GCP binding broker trust prints admits only tokens that
// came through its own provider, as the AWS, Azure and Vault trusts admit only broker's issuer.
// A principal set holds every provider of its pool, so when a second broker (another issuer,
// say staging) has its own provider in the same pool, a stack of the same id in a space of the
// same id ("root" is in every broker) must not map to the attribute value the first broker's
// binding names, or its write runs would impersonate that service account.
func TestGCPBindingBoundToItsProvider(t *testing.T) {
	members := map[string]string{}
	for _, b := range []struct{ issuer, provider string }{
		{"https://broker.example.com", "prod"},
		{"https://broker-staging.example.com", "staging"},
	} {
		cfg := parseConfig(t, twoBrokerConfig(t, b.issuer, b.provider))
		doc, err := Render(cfg, Request{Provider: "gcp", Stack: "a", Scope: runs.Write})
		if err != nil {
			t.Fatal(err)
		}
		members[b.provider] = doc.(GCPTrust).Binding.Member
	}
	if members["prod"] == members["staging"] {
		t.Errorf("both brokers' bindings name %q: a staging write run of root/a "+
			"impersonates the prod service account", members["prod"])
	}
}
