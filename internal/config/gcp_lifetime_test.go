package config

import (
	"fmt"
	"testing"
)

// gcpLifetimeConfig is a file with one GCP integration whose tokens.ttl, runs.ttl and
// keys.rotation.retain are all the given duration.
const gcpLifetimeConfig = `issuer: https://broker.example.com
tokens: {ttl: %[1]s}
runs: {ttl: %[1]s}
keys: {rotation: {period: 720h, prepublish: 24h, retain: %[1]s}}
spaces:
  - id: root
integrations:
  - id: g
    space: root
    gcp:
      workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov
      service_account: sa@proj.iam.gserviceaccount.com
`

// TestGCPRefusesTokensLivingPastGoogleLimit checks that a file with a GCP integration whose
// tokens.ttl and runs.ttl both reach 48 hours is refused, as one with an Azure integration past
// Entra ID's limit is: Google STS takes no subject token whose exp is 48 hours or more after
// its iat, and every token of a fresh run would live that long.
func TestGCPRefusesTokensLivingPastGoogleLimit(t *testing.T) {
	for _, ttl := range []string{"48h", "72h"} {
		src := fmt.Sprintf(gcpLifetimeConfig, ttl)
		if _, err := Parse("gcp.yaml", []byte(src)); err == nil {
			t.Errorf("tokens.ttl and runs.ttl %s with a GCP integration accepted: "+
				"every token lives %s, and Google STS refuses one living 48h or more", ttl, ttl)
		}
	}
	ok := fmt.Sprintf(gcpLifetimeConfig, "47h")
	if _, err := Parse("gcp.yaml", []byte(ok)); err != nil {
		t.Fatalf("control file refused: %v", err)
	}
}
