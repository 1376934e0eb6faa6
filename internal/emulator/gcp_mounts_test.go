package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestGCPEndpointsOnlyUnderTheirOwnMount pins that Google's two services are served each
// under its own path, as sts.googleapis.com and iamcredentials.googleapis.com are two hosts:
// STS's token exchange is not answered under GCPIAMPath, and generateAccessToken is not
// answered under GCPSTSPath (both 404), so a broker whose GCP endpoints are swapped fails
// against the emulator as it would against Google.
// Guards against: HTTPHandler mounting the whole GCP emulator, both APIs, under both paths
func TestGCPEndpointsOnlyUnderTheirOwnMount(t *testing.T) {
	iss := oidctest.Start(t)
	const provider = "projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
	set := fromYAML(t, `issuer: `+iss.URL+`
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: g, space: root, gcp: {workload_identity_provider: `+provider+`, service_account: s@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: g, read: true}
`)
	srv := httptest.NewServer(set.HTTPHandler())
	t.Cleanup(srv.Close)
	aud := "//iam.googleapis.com/" + provider
	jwt := iss.Sign(t, oidctest.Token{Claims: readRunClaims(aud, "stack")})
	if got := postSTS(t, srv.URL+GCPSTSPath+"/v1/token", stsForm(aud, jwt)); got != http.StatusOK {
		t.Fatalf("STS at %s: %d, want 200", GCPSTSPath, got)
	}
	if got := postSTS(t, srv.URL+GCPIAMPath+"/v1/token", stsForm(aud, jwt)); got != http.StatusNotFound {
		t.Errorf("STS token exchange under %s: %d, want 404", GCPIAMPath, got)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+GCPSTSPath+"/v1/projects/-/serviceAccounts/s@p.iam.gserviceaccount.com:generateAccessToken",
		strings.NewReader(`{"scope":["https://www.googleapis.com/auth/cloud-platform"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer not-a-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("generateAccessToken under %s: %d, want 404", GCPSTSPath, resp.StatusCode)
	}
}
