package config

import (
	"strings"
	"testing"
)

// TestUpstreamEndpointsUseHTTPS requires every upstream endpoint (calls that carry signed ID
// tokens and bring back credentials or signatures) to be https unless its host is loopback.
func TestUpstreamEndpointsUseHTTPS(t *testing.T) {
	const (
		wip = "projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
		arn = `"arn:aws:iam::123456789012:role/x"`
	)
	endpoints := []struct {
		path string
		src  func(url string) string
	}{
		{"integrations[0].aws.sts_endpoint", func(u string) string {
			return withIntegration("    aws: {role_arn: " + arn + ", sts_endpoint: \"" + u + "\"}\n")
		}},
		{"integrations[0].gcp.sts_endpoint", func(u string) string {
			return withIntegration("    gcp: {workload_identity_provider: " + wip + ", service_account: a@b.c, sts_endpoint: \"" + u + "\"}\n")
		}},
		{"integrations[0].gcp.iam_credentials_endpoint", func(u string) string {
			return withIntegration("    gcp: {workload_identity_provider: " + wip + ", service_account: a@b.c, iam_credentials_endpoint: \"" + u + "\"}\n")
		}},
		{"integrations[0].vault.address", func(u string) string {
			return withIntegration("    vault: {address: \"" + u + "\", role: r}\n")
		}},
		{"keys.vault_transit.address", func(u string) string {
			return iss + "keys:\n  backend: vault-transit\n  vault_transit: {address: \"" + u + "\", mount: transit, key: k}\n"
		}},
	}
	for _, ep := range endpoints {
		for _, u := range []string{"http://vault.internal:8200", "http://10.0.0.7", "http://0.0.0.0:8081", "http://127.0.0.1.example.com"} {
			t.Run(ep.path+" "+u, func(t *testing.T) {
				_, err := Parse("t.yaml", []byte(ep.src(u)))
				want := ep.path + `: "` + u + `" must use https (plain http is allowed only on a loopback host)`
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Parse() = %v, want %s", err, want)
				}
			})
		}
		for _, u := range []string{"https://vault.internal:8200", "http://127.0.0.1:8081", "http://localhost:8200/base", "http://[::1]:8200"} {
			t.Run(ep.path+" "+u, func(t *testing.T) {
				if _, err := Parse("t.yaml", []byte(ep.src(u))); err != nil {
					t.Errorf("Parse() = %v, want it accepted", err)
				}
			})
		}
	}
	if _, err := Parse("t.yaml", []byte(withIntegration("    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002, authority_host: \"http://login.example.com\"}\n"))); err == nil ||
		!strings.Contains(err.Error(), "integrations[0].azure.authority_host") {
		t.Errorf("azure authority_host over http: %v", err)
	}
}

// TestURLsNeedAHostName: the issuer and every upstream base URL name a host. A URL whose
// authority holds only a port (https://:8443) names no server a relying party, or broker
// itself, could reach, and such an issuer would make ":8443" the default audience.
func TestURLsNeedAHostName(t *testing.T) {
	vault := func(addr string) string {
		return "integrations:\n  - id: v\n    space: root\n" +
			"    vault: {address: \"" + addr + "\", role: dev}\n"
	}
	checkEdges(t, []edgeCase{
		{"issuer of only a port", "issuer: \"https://:8443\"\n", "issuer"},
		{"issuer with a host and a port", "issuer: \"https://broker.example.com:8443\"\n", ""},
		{"vault address of only a port", vault("https://:8200"), "integrations[0].vault.address"},
		{"vault address with a host", vault("https://vault.example.com:8200"), ""},
	})
}
