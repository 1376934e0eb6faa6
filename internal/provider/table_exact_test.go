package provider

import (
	"slices"
	"testing"
	"time"
)

// TestAzureAndSlackBounds pins the two lifetime bounds the configuration and the
// credential check build on: Entra ID grants access tokens of at least 10 minutes, and
// credentials may expire at most 5 minutes later than the lifetime asked for.
// Guards against: AzureMinToken changed (10m -> 5m), provider.go
// Guards against: LifetimeSlack changed (5m -> 15m), provider.go
func TestAzureAndSlackBounds(t *testing.T) {
	if AzureMinToken != 10*time.Minute {
		t.Errorf("AzureMinToken = %v, want 10m", AzureMinToken)
	}
	if LifetimeSlack != 5*time.Minute {
		t.Errorf("LifetimeSlack = %v, want 5m", LifetimeSlack)
	}
}

// TestFactsExactly pins each provider's table row exactly: the default audience (none
// for GCP, whose default depends on the integration), the variables always set (a run and
// `broker credentials` insist on every one of them, so an optional one listed here would make
// an exchange without it fail), the optional ones, and the secret ones.
// Guards against: AWS_REGION moved into AWS's always-set Env, provider.go:table
// Guards against: VAULT_NAMESPACE moved into Vault's always-set Env, provider.go:table
// Guards against: an extra variable marked secret (ARM_CLIENT_ID), provider.go:table
// Guards against: a fixed default audience given to GCP, provider.go:table
func TestFactsExactly(t *testing.T) {
	for _, want := range []Facts{
		{Name: AWS, Audience: "sts.amazonaws.com",
			Env:         []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"},
			OptionalEnv: []string{"AWS_REGION", "AWS_DEFAULT_REGION"},
			Secrets:     []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}},
		{Name: GCP, Env: []string{"GOOGLE_OAUTH_ACCESS_TOKEN"}, Secrets: []string{"GOOGLE_OAUTH_ACCESS_TOKEN"}},
		{Name: Azure, Audience: "api://AzureADTokenExchange", Algorithm: "RS256",
			Env:         []string{"ARM_TENANT_ID", "ARM_CLIENT_ID", "ARM_USE_OIDC", "ARM_OIDC_TOKEN"},
			OptionalEnv: []string{"ARM_SUBSCRIPTION_ID", "ARM_ENVIRONMENT"},
			Secrets:     []string{"ARM_OIDC_TOKEN"}},
		{Name: Vault, Audience: "vault",
			Env:         []string{"VAULT_ADDR", "VAULT_TOKEN"},
			OptionalEnv: []string{"VAULT_NAMESPACE"},
			Secrets:     []string{"VAULT_TOKEN"}},
	} {
		got, ok := Lookup(want.Name)
		if !ok {
			t.Fatalf("no provider %s", want.Name)
		}
		if got.Audience != want.Audience || got.Algorithm != want.Algorithm {
			t.Errorf("%s: audience %q algorithm %q, want %q %q", want.Name, got.Audience, got.Algorithm, want.Audience, want.Algorithm)
		}
		for _, field := range []struct {
			what      string
			got, want []string
		}{{"Env", got.Env, want.Env}, {"OptionalEnv", got.OptionalEnv, want.OptionalEnv}, {"Secrets", got.Secrets, want.Secrets}} {
			if !slices.Equal(slices.Sorted(slices.Values(field.got)), slices.Sorted(slices.Values(field.want))) {
				t.Errorf("%s: %s = %v, want %v", want.Name, field.what, field.got, field.want)
			}
		}
	}
}

// TestAWSRegionRE pins what a region code is: a partition prefix of two to four letters,
// one or more words, and a number of any length, and nothing before or after it (a region is
// put in STS's host name).
// Guards against: AWSRegionRE without its `$` anchor, provider.go
// Guards against: AWSRegionRE without its `^` anchor, provider.go
// Guards against: awsRegion `-[0-9]+` -> `-[0-9]`, provider.go
// Guards against: awsRegion `[a-z]{2,4}` -> `[a-z]{1,4}`, provider.go
// Guards against: awsRegion `(?:-[a-z]+)+` -> `(?:-[a-z]+)*`, provider.go
func TestAWSRegionRE(t *testing.T) {
	for region, want := range map[string]bool{
		"us-east-1": true, "ap-southeast-12": true, "us-gov-west-1": true, "us-isob-east-1": true,
		"us-east-1.evil.example": false, "us-east-1/": false, "us-east-1 ": false, "xus-east-1x": false,
		"evil.example/us-east-1": false, "9.us-east-1": false,
		"u-east-1": false, "us-1": false, "us-east-": false, "US-EAST-1": false, "": false,
	} {
		if got := AWSRegionRE.MatchString(region); got != want {
			t.Errorf("AWSRegionRE.MatchString(%q) = %v, want %v", region, got, want)
		}
	}
}

// TestAWSDefaultRegionEdges pins two more cases of the default region: an ARN of two
// fields names no partition (no region), and a China interface VPC endpoint's host
// (.vpce.amazonaws.com.cn) gives its region.
// Guards against: `len(parts) < 3` -> `< 2`, provider.go:AWSDefaultRegion
// Guards against: awsSTSHostRE without `(?:\.cn)?` after vpce.amazonaws.com, provider.go
func TestAWSDefaultRegionEdges(t *testing.T) {
	for _, tc := range []struct{ arn, endpoint, want string }{
		{"arn:aws", "", ""},
		{"arn:aws-cn:iam::123456789012:role/r", "https://vpce-0123456789abcdef0-abcdefgh.sts.cn-northwest-1.vpce.amazonaws.com.cn", "cn-northwest-1"},
	} {
		if got := AWSDefaultRegion(tc.arn, tc.endpoint); got != tc.want {
			t.Errorf("AWSDefaultRegion(%q, %q) = %q, want %q", tc.arn, tc.endpoint, got, tc.want)
		}
	}
}

// TestIssuerUnreachableWords pins the words each upstream answers when it could not fetch
// broker's discovery document or JWKS. The exchangers call such an answer an outage and the
// emulators answer with the same constants, so a changed constant would pass every test built
// from it while the real services' answers were refused as the caller's fault.
func TestIssuerUnreachableWords(t *testing.T) {
	for _, c := range []struct{ got, want any }{
		{AWSIssuerUnreachable, "Couldn't retrieve verification key from your identity provider"},
		{GCPIssuerUnreachable, "Error connecting to the given credential's issuer"},
		{AzureIssuerUnreachable, 50166},
		{VaultIssuerUnreachable, "fetching keys"},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
}
