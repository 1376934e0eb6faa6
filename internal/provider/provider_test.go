package provider

import (
	"slices"
	"testing"
)

func TestAudience(t *testing.T) {
	const wip = "projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
	tests := []struct {
		name, provider, configured, want string
	}{
		{"aws default", AWS, "", "sts.amazonaws.com"},
		{"azure default", Azure, "", "api://AzureADTokenExchange"},
		{"vault default", Vault, "", "vault"},
		{"gcp default is the provider's resource name", GCP, "", "//iam.googleapis.com/" + wip},
		{"configured wins", AWS, "custom", "custom"},
		{"configured wins on gcp", GCP, "custom", "custom"},
		{"unknown provider", "ibm", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Audience(tc.provider, tc.configured, wip); got != tc.want {
				t.Errorf("Audience(%q, %q) = %q, want %q", tc.provider, tc.configured, got, tc.want)
			}
		})
	}
}

func TestGCPAudience(t *testing.T) {
	const want = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
	for _, in := range []string{
		"projects/1/locations/global/workloadIdentityPools/pool/providers/prov",
		"/projects/1/locations/global/workloadIdentityPools/pool/providers/prov",
		want,
		"https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov",
	} {
		if got := GCPAudience(in); got != want {
			t.Errorf("GCPAudience(%q) = %q", in, got)
		}
	}
}

// TestGCPPool checks that a provider's resource name splits at the last "/providers/", so that
// a pool named "providers" keeps its name, and that a name without one does not split.
func TestGCPPool(t *testing.T) {
	const base = "projects/1/locations/global/workloadIdentityPools/"
	for _, tc := range []struct {
		name, pool, id string
		ok             bool
	}{
		{base + "pool/providers/prov", base + "pool", "prov", true},
		{base + "providers/providers/prov", base + "providers", "prov", true},
		{base + "pool/providers/providers", base + "pool", "providers", true},
		{base + "pool", "", "", false},
	} {
		pool, id, ok := GCPPool(tc.name)
		if pool != tc.pool || id != tc.id || ok != tc.ok {
			t.Errorf("GCPPool(%q) = %q, %q, %v; want %q, %q, %v", tc.name, pool, id, ok, tc.pool, tc.id, tc.ok)
		}
	}
}

func TestAlgorithms(t *testing.T) {
	if got := AlgorithmFor(AzureAudience); got != "RS256" {
		t.Errorf("AlgorithmFor(azure) = %q", got)
	}
	for _, aud := range AzureNationalAudiences {
		if got := AlgorithmFor(aud); got != "RS256" {
			t.Errorf("AlgorithmFor(%q) = %q, want RS256", aud, got)
		}
	}
	for _, aud := range []string{AWSAudience, VaultAudience, "", "x", AzureAudience + "X",
		"api://azureadtokenexchangeusgov", AzureNationalAudiences[0] + "/"} {
		if got := AlgorithmFor(aud); got != "" {
			t.Errorf("AlgorithmFor(%q) = %q, want any", aud, got)
		}
	}
	if got := RequiredAlgorithms(); !slices.Equal(got, []string{"RS256"}) {
		t.Errorf("RequiredAlgorithms() = %v", got)
	}
}

func TestNames(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{"aws", "gcp", "azure", "vault"}) {
		t.Errorf("Names() = %v", got)
	}
	if got := NameList(); got != "aws, gcp, azure or vault" {
		t.Errorf("NameList() = %q", got)
	}
	if !Known("vault") || Known("ibm") || Known("") {
		t.Error("Known is wrong")
	}
	for _, f := range All() {
		if len(f.Env) == 0 {
			t.Errorf("%s has no env names", f.Name)
		}
	}
}

// TestAWSDefaultRegion: an AWS integration without a region signs for the region STS's endpoint
// expects: the one in a regional endpoint's host, else its role's partition's; none for a
// partition this build knows no region-free endpoint of.
func TestAWSDefaultRegion(t *testing.T) {
	for _, tc := range []struct{ arn, endpoint, want string }{
		{"arn:aws:iam::123456789012:role/r", "", "us-east-1"},
		{"arn:aws-us-gov:iam::123456789012:role/r", "", "us-gov-west-1"},
		{"arn:aws-cn:iam::123456789012:role/r", "", "cn-north-1"},
		{"arn:aws-iso:iam::123456789012:role/r", "", ""},
		{"arn:aws:iam::123456789012:role/r", "https://sts.eu-west-1.amazonaws.com", "eu-west-1"},
		{"arn:aws-us-gov:iam::123456789012:role/r", "https://sts-fips.us-gov-east-1.amazonaws.com/", "us-gov-east-1"},
		{"arn:aws-cn:iam::123456789012:role/r", "https://sts.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
		{"arn:aws:iam::123456789012:role/r", "https://sts.amazonaws.com", "us-east-1"},
		{"arn:aws:iam::123456789012:role/r", "http://127.0.0.1:8080/sts/", "us-east-1"},
		{"arn:aws:iam::123456789012:role/r", "https://sts.eu-west-1.amazonaws.com.evil.example", "us-east-1"},
		{"arn:aws:iam::123456789012:role/r", "https://vpce-0123456789abcdef0-abcdefgh.sts.eu-west-1.vpce.amazonaws.com", "eu-west-1"},
		{"arn:aws:iam::123456789012:role/r", "https://sts.eu-west-1.api.aws", "eu-west-1"},
		{"arn:aws:iam::123456789012:role/r", "https://STS.EU-WEST-1.AMAZONAWS.COM", "eu-west-1"},
		{"arn:aws:iam::123456789012:role/r", "https://sts.eu-west-1.amazonaws.com.:443/", "eu-west-1"},
		{"arn:aws-iso-b:iam::123456789012:role/r", "https://sts.us-isob-east-1.sc2s.sgov.gov", ""},
		{"not-an-arn", "", ""},
	} {
		if got := AWSDefaultRegion(tc.arn, tc.endpoint); got != tc.want {
			t.Errorf("AWSDefaultRegion(%q, %q) = %q, want %q", tc.arn, tc.endpoint, got, tc.want)
		}
	}
}

// TestAzureEnvironment checks that a national cloud's Entra ID authority names azurerm's
// ARM_ENVIRONMENT for that cloud, whatever its case, port or trailing dot, and that the public
// cloud's, or any other host, names none.
func TestAzureEnvironment(t *testing.T) {
	for authority, want := range map[string]string{
		"https://login.microsoftonline.us/":          "usgovernment",
		"https://LOGIN.microsoftonline.us.:443/":     "usgovernment",
		"https://login.chinacloudapi.cn/":            "china",
		"https://login.partner.microsoftonline.cn/":  "china",
		"https://login.microsoftonline.com/":         "",
		"https://127.0.0.1:8443/":                    "",
		"https://login.microsoftonline.us.evil.com/": "",
		"::not a url": "",
	} {
		if got := AzureEnvironment(authority); got != want {
			t.Errorf("AzureEnvironment(%q) = %q, want %q", authority, got, want)
		}
	}
}
