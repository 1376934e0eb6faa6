package trust

import (
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

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
		cfg := parseConfig(t, gcpStackConfig(gcpStack{issuer: b.issuer, pool: "shared", provider: b.provider}))
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
