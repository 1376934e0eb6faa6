package provider

import (
	"testing"
)

// TestSTSHostMustStartTheName checks that only a host that is an STS endpoint gives the
// region: a host that merely ends like one (evilsts.<region>.amazonaws.com, a name under another
// label) is not one, and the role's partition decides.
// Guards against: awsSTSHostRE without its `^` anchor
func TestSTSHostMustStartTheName(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/r"
	for _, endpoint := range []string{
		"https://evilsts.eu-west-1.amazonaws.com",
		"https://notsts-fips.eu-west-1.amazonaws.com",
	} {
		if got := AWSDefaultRegion(arn, endpoint); got != AWSRegion {
			t.Errorf("AWSDefaultRegion(%q) = %q, want the partition's %q", endpoint, got, AWSRegion)
		}
	}
}
