package server

import (
	"testing"
)

// azureAudienceYAML adds an Azure integration whose federated credential takes a custom
// audience, as the contract lets every integration set `audience`.
const azureAudienceYAML = `
integrations:
  - id: az-custom
    space: prod
    audience: api://broker-azure
    azure:
      tenant_id: 00000000-0000-0000-0000-000000000001
      client_id: 00000000-0000-0000-0000-000000000002
`

// TestAzureCustomAudienceIsRS256: a token asked for with the audience of an Azure integration
// is one Entra ID can take, signed RS256, the only algorithm Entra accepts, also under
// keys.algorithm ES256 and also when the integration sets its own audience; another audience
// gets the configured algorithm.
func TestAzureCustomAudienceIsRS256(t *testing.T) {
	ts := startServer(t, serverOptions{alg: "ES256", extraYAML: azureAudienceYAML})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	tok, code := ts.mint(t, run.RunToken, "api://broker-azure")
	if code != 200 {
		t.Fatalf("token for the Azure integration's audience: status %d", code)
	}
	if alg := jwtHeader(t, tok.Token)["alg"]; alg != "RS256" {
		t.Errorf("token for Azure integration audience api://broker-azure signed %v; Entra ID "+
			"accepts only RS256", alg)
	}
	other, code := ts.mint(t, run.RunToken, "api://elsewhere")
	if code != 200 {
		t.Fatalf("token for another audience: status %d", code)
	}
	if alg := jwtHeader(t, other.Token)["alg"]; alg != "ES256" {
		t.Errorf("token for another audience signed %v, want the configured ES256", alg)
	}
}
