package provider

import (
	"slices"
	"testing"
)

// TestSecretsPerProvider pins which environment variables each provider marks secret: the
// exchange test suite checks exactly these never reach logs, audit or errors.
// Guards against: internal/provider/provider.go:144 AWS Secrets without AWS_SESSION_TOKEN
// Guards against: internal/provider/provider.go:147 GCP Secrets emptied
// Guards against: internal/provider/provider.go:151 Azure Secrets emptied
// Guards against: internal/provider/provider.go:155 Vault Secrets emptied
func TestSecretsPerProvider(t *testing.T) {
	for name, want := range map[string][]string{
		AWS:   {"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"},
		GCP:   {"GOOGLE_OAUTH_ACCESS_TOKEN"},
		Azure: {"ARM_OIDC_TOKEN"},
		Vault: {"VAULT_TOKEN"},
	} {
		f, ok := Lookup(name)
		if !ok {
			t.Fatalf("no provider %s", name)
		}
		for _, s := range want {
			if !slices.Contains(f.Secrets, s) {
				t.Errorf("%s: %s is not marked secret (Secrets %v)", name, s, f.Secrets)
			}
		}
		for _, s := range f.Secrets {
			if !f.MaySet(s) {
				t.Errorf("%s: secret %s is not a variable the exchange sets", name, s)
			}
		}
	}
}

// TestAWSRegionsOfFourLetterPartitions pins that a region whose partition prefix has four
// letters (eusc-de-east-1, the European sovereign cloud) is a region, both for validation and
// in a regional STS endpoint; and that an ARN not starting with "arn" names no partition.
// Guards against: internal/provider/provider.go:40 `[a-z]{2,4}` -> `[a-z]{2,3}`
// Guards against: internal/provider/provider.go:64 dropping `|| parts[0] != "arn"`
func TestAWSRegionsOfFourLetterPartitions(t *testing.T) {
	if !AWSRegionRE.MatchString("eusc-de-east-1") {
		t.Error("AWSRegionRE refuses eusc-de-east-1")
	}
	for _, tc := range []struct{ arn, endpoint, want string }{
		{"arn:aws-eusc:iam::123456789012:role/r", "https://sts.eusc-de-east-1.amazonaws.com", "eusc-de-east-1"},
		{"nra:aws:iam::123456789012:role/r", "", ""},
		{"urn:aws:iam::123456789012:role/r", "", ""},
	} {
		if got := AWSDefaultRegion(tc.arn, tc.endpoint); got != tc.want {
			t.Errorf("AWSDefaultRegion(%q, %q) = %q, want %q", tc.arn, tc.endpoint, got, tc.want)
		}
	}
}
