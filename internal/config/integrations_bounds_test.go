package config

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/provider"
)

const azureBlock = "    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}\n"

// TestIntegrationEdges pins down integration rules at their bounds: a GCP or Vault
// duration of exactly the minimum lifetime is accepted, an account id has exactly 12 digits, a
// tenant domain name may be 253 characters and no more, a GCP scope is printable ASCII, and an
// Azure scope's resource URI has a scheme.
// Guards against: integrations.go:gcp min excl
// Guards against: integrations.go:vault min excl
// Guards against: integrations.go:role arn 13 digits
// Guards against: formats.go:tenant 254
// Guards against: formats.go:scope non-ascii
// Guards against: formats.go:scope no scheme
func TestIntegrationEdges(t *testing.T) {
	min := provider.MinLifetime.String()
	tenant := func(n int) string {
		d := strings.Repeat("a.", (n-3)/2) + "com"
		if len(d) < n {
			d = "b" + d
		}
		return d
	}
	azureWith := func(extra string) string {
		return withIntegration("    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002" + extra + "}\n")
	}
	const gcp = "    gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: sa@p.iam.gserviceaccount.com"
	checkEdges(t, []edgeCase{
		{"gcp duration at minimum", withIntegration("    duration: " + min + "\n" + gcp + "}\n"), ""},
		{"vault duration at minimum", withIntegration("    duration: " + min + "\n    vault: {address: https://v.example.com, role: r, mount: jwt}\n"), ""},
		{"13-digit account", withIntegration("    aws: {role_arn: \"arn:aws:iam::1234567890123:role/x\"}\n"), "integrations[0].aws.role_arn"},
		{"tenant of 253", withIntegration("    azure: {tenant_id: " + tenant(253) + ", client_id: 00000000-0000-0000-0000-000000000002}\n"), ""},
		{"tenant of 254", withIntegration("    azure: {tenant_id: " + tenant(254) + ", client_id: 00000000-0000-0000-0000-000000000002}\n"), "integrations[0].azure.tenant_id"},
		{"non-ASCII gcp scope", withIntegration(gcp + ", scopes: [\"https://www.googleapis.com/auth/cl\u00f6ud\"]}\n"), "integrations[0].gcp.scopes[0]"},
		{"azure scope without scheme", azureWith(", scope: \"//management.azure.com/.default\""), "integrations[0].azure.scope"},
	})
	if len(tenant(253)) != 253 || len(tenant(254)) != 254 {
		t.Fatalf("tenant lengths %d %d", len(tenant(253)), len(tenant(254)))
	}
}

// TestAzureLifetimesReportedOnce pins down that a tokens.ttl too short for Azure is
// reported once, naming the first Azure integration, however many there are.
// Guards against: integrations.go:azure lifetimes repeated
func TestAzureLifetimesReportedOnce(t *testing.T) {
	src := iss + "tokens: {ttl: 30s}\nintegrations:\n  - id: a1\n    space: root\n" + azureBlock + "  - id: a2\n    space: root\n" + azureBlock
	err := parseText(src)
	if n := problemsAt(err, "tokens.ttl"); n != 1 {
		t.Errorf("two Azure integrations, tokens.ttl 30s: %d problems at tokens.ttl, want 1: %v", n, err)
	}
}

// TestCheckIntegrationLifetimes pins down that short lifetimes are a problem for an Azure
// integration only.
// Guards against: integrations.go:CheckIntegrationLifetimes inverted
func TestCheckIntegrationLifetimes(t *testing.T) {
	short := Lifetimes{Token: provider.MinValidity, Run: provider.MinValidity}
	az := Integration{ID: "a", Azure: &Azure{TenantID: "t", ClientID: "c"}}
	if err := CheckIntegrationLifetimes(az, "integrations[0]", short); problemAt(err, "integrations[0].azure") == nil {
		t.Errorf("Azure with short lifetimes: want a problem at integrations[0].azure, got %v", err)
	}
	aws := Integration{ID: "b", AWS: &AWS{RoleARN: "arn:aws:iam::123456789012:role/x"}}
	if err := CheckIntegrationLifetimes(aws, "integrations[0]", short); err != nil {
		t.Errorf("AWS with short lifetimes: want nil, got %v", err)
	}
}
