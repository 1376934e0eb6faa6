package server

import (
	"fmt"
	"net"
	"net/http"
	"testing"

	awsemu "github.com/brokerhq/broker/internal/emulator/aws"
	azureemu "github.com/brokerhq/broker/internal/emulator/azure"
	gcpemu "github.com/brokerhq/broker/internal/emulator/gcp"
)

// deadIssuer is an http://127.0.0.1:<port> URL on which nothing listens.
func deadIssuer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	_ = ln.Close()
	return u
}

// TestIssuerUnreachableIsAnErrorForEveryCloud: when the clouds cannot reach broker's discovery
// document or JWKS (its public endpoint is down), each cloud's answer (AWS STS's "Couldn't
// retrieve verification key", Google STS's "Error connecting to the given credential's
// issuer", Entra's AADSTS50166) counts in broker_credentials_total as outcome "error", an
// outage, never "denied", a refusal of the caller.
func TestIssuerUnreachableIsAnErrorForEveryCloud(t *testing.T) {
	emu, late := startTLSEmulator(t)
	issuer := deadIssuer(t)
	const pool = "projects/123456/locations/global/workloadIdentityPools/broker"
	const tenant = "00000000-0000-0000-0000-00000000000a"
	ts := startServer(t, serverOptions{issuer: issuer, upstream: emu.Client().Transport, extraYAML: fmt.Sprintf(`
integrations:
  - {id: aws-read, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/vpc-read", sts_endpoint: %[1]q}}
  - {id: gcp-read, space: prod, gcp: {workload_identity_provider: %[2]s/providers/broker, service_account: read@p.iam.gserviceaccount.com, sts_endpoint: %[1]q, iam_credentials_endpoint: %[1]q}}
  - {id: az-read, space: prod, azure: {tenant_id: %[3]s, client_id: 00000000-0000-0000-0000-0000000000a1, authority_host: %[1]q}}
attachments:
  - {stack: vpc-prod, integration: aws-read, read: true}
  - {stack: vpc-prod, integration: gcp-read, read: true}
  - {stack: vpc-prod, integration: az-read, read: true}
`, emu.URL, pool, tenant)})
	sts := awsemu.New(awsemu.Config{Roles: []awsemu.Role{
		{ARN: "arn:aws:iam::123456789012:role/vpc-read", Trust: awsemu.Trust{Issuer: issuer, Audiences: []string{"sts.amazonaws.com"},
			Subject: "space:prod:stack:vpc-prod:run_type:*:scope:read"}},
	}})
	google := gcpemu.New(gcpemu.Config{
		Providers: []gcpemu.Provider{{
			Name: pool + "/providers/broker", Issuer: issuer,
			AttributeMapping: map[string]string{"google.subject": "assertion.sub", "attribute.scope": "assertion.scope"},
		}},
		ServiceAccounts: []gcpemu.ServiceAccount{
			{Email: "read@p.iam.gserviceaccount.com", Members: []string{"principalSet://iam.googleapis.com/" + pool + "/attribute.scope/read"}},
		},
	})
	entra := azureemu.New(azureemu.Config{Host: emu.URL, Apps: []azureemu.App{{TenantID: tenant, ClientID: "00000000-0000-0000-0000-0000000000a1",
		Federated: []azureemu.FederatedCredential{{Issuer: issuer, Subject: "space:prod:stack:vpc-prod:run_type:TRACKED:scope:read", Audiences: []string{"api://AzureADTokenExchange"}}}}}})
	mux := http.NewServeMux()
	mux.Handle("/v1/", google)
	mux.Handle("/"+tenant+"/", entra)
	mux.Handle("/common/", entra)
	mux.Handle("/", sts)
	late.set(mux)

	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for _, p := range []string{"aws", "gcp", "azure"} {
		if _, code, env := ts.credentials(t, run.RunToken, p, ""); code != 502 {
			t.Errorf("%s with the issuer unreachable: %d %s, want 502", p, code, env.Error.Message)
		}
	}
	samples := scrape(t, ts)
	outcome := map[string]string{}
	for _, p := range []string{"aws", "gcp", "azure"} {
		for _, o := range []string{"success", "denied", "error"} {
			if value(t, samples, "broker_credentials_total", "provider", p, "outcome", o) > 0 {
				outcome[p] = o
			}
		}
	}
	for _, p := range []string{"aws", "gcp", "azure"} {
		if outcome[p] != "error" {
			t.Errorf("broker_credentials_total{provider=%q} counts the issuer's JWKS being unreachable as %q, want \"error\"", p, outcome[p])
		}
	}
}
