package provider

import (
	"slices"
	"testing"
)

// TestAllListsEveryProvider checks that All returns the facts of every provider, in the
// order Names lists them, each the same facts Lookup returns for its name.
// Guards against: All() returning the table without its last row
func TestAllListsEveryProvider(t *testing.T) {
	all := All()
	names := make([]string, len(all))
	for i, f := range all {
		names[i] = f.Name
		if got, ok := Lookup(f.Name); !ok || got.Audience != f.Audience ||
			!slices.Equal(got.Env, f.Env) {
			t.Errorf("All()[%d] = %+v, Lookup(%q) = %+v, %v", i, f, f.Name, got, ok)
		}
	}
	if want := []string{AWS, GCP, Azure, Vault}; !slices.Equal(names, want) {
		t.Errorf("All() lists %v, want %v", names, want)
	}
}

// TestProviderNamesAreExact checks that a provider is known by its exact lower-case name
// only: another spelling (upper case, mixed case, blanks around it) names no provider.
// Guards against: Lookup comparing names with strings.EqualFold
func TestProviderNamesAreExact(t *testing.T) {
	for _, name := range []string{"AWS", "Gcp", "AZURE", "Vault", " aws", "aws "} {
		if f, ok := Lookup(name); ok || Known(name) {
			t.Errorf("Lookup(%q) = %+v, %v; Known %v; want no provider", name, f, ok, Known(name))
		}
	}
}

// TestAlgorithmForExactAudience checks that only a provider's default audience itself
// restricts the signing algorithm: an audience that merely starts like Azure's (a longer path,
// a suffix) accepts any algorithm.
// Guards against: AlgorithmFor matching audiences by prefix (strings.HasPrefix)
func TestAlgorithmForExactAudience(t *testing.T) {
	for _, aud := range []string{AzureAudience + "/x", AzureAudience + "2", AzureAudience + " "} {
		if got := AlgorithmFor(aud); got != "" {
			t.Errorf("AlgorithmFor(%q) = %q, want any (\"\")", aud, got)
		}
	}
}

// TestRegionNumberOfAnyLength checks that a region code ends in a number of any length,
// three digits included, both as a region and in a regional STS endpoint's host.
// Guards against: awsRegion `-[0-9]+` -> `-[0-9]{1,2}`
func TestRegionNumberOfAnyLength(t *testing.T) {
	if !AWSRegionRE.MatchString("us-east-100") {
		t.Error("AWSRegionRE refuses us-east-100")
	}
	const arn = "arn:aws:iam::123456789012:role/r"
	if got := AWSDefaultRegion(arn, "https://sts.eu-west-123.amazonaws.com"); got != "eu-west-123" {
		t.Errorf("AWSDefaultRegion(sts.eu-west-123) = %q, want eu-west-123", got)
	}
}

// TestVPCEndpointIDIsOneLabel checks that the region is read only from the host forms AWS
// gives STS: an interface endpoint's id is one DNS label before ".sts.", so a host with more
// labels there is no STS endpoint and the role's partition decides.
// Guards against: awsSTSHostRE endpoint id `[a-z0-9-]+` -> `[a-z0-9.-]+`
func TestVPCEndpointIDIsOneLabel(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/r"
	for _, endpoint := range []string{
		"https://evil.example.sts.eu-west-1.amazonaws.com",
		"https://a.vpce-0123.sts.eu-west-1.vpce.amazonaws.com",
	} {
		if got := AWSDefaultRegion(arn, endpoint); got != AWSRegion {
			t.Errorf("AWSDefaultRegion(%q) = %q, want the partition's %q", endpoint, got, AWSRegion)
		}
	}
}
