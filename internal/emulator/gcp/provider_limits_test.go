package gcpemu

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestProviderNeedsProjectNumber: a workload identity pool provider is named under its
// project's NUMBER, with pool and provider ids of 4 to 32 lowercase letters, digits and
// hyphens, not starting with the reserved "gcp-". Google STS refuses an audience naming the
// project by its id (google-github-actions/auth#269, #341), as broker's own configuration
// (config/integrations.go wipRE) does, so Config.Validate refuses such a provider and STS
// refuses such an audience.
// Guards against: config.go:providerName projects/[^/]+ taking a project id and any pool or provider id
func TestProviderNeedsProjectNumber(t *testing.T) {
	const prefix = "projects/123456789/locations/global/workloadIdentityPools/"
	for _, name := range []string{
		"projects/my-project/locations/global/workloadIdentityPools/broker/providers/broker-oidc",
		prefix + "abc/providers/broker-oidc",
		prefix + "broker/providers/abc",
		prefix + strings.Repeat("a", 33) + "/providers/broker-oidc",
		prefix + "broker/providers/" + strings.Repeat("a", 33),
		prefix + "Broker/providers/broker-oidc",
		prefix + "broker/providers/broker_oidc",
		prefix + "gcp-pool/providers/broker-oidc",
		prefix + "broker/providers/gcp-oidc",
	} {
		cfg := Config{Providers: []Provider{{Name: name, Issuer: "https://i"}}}
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate() took provider %q", name)
		}
	}

	// STS refuses such an audience as malformed before looking for its provider.
	const name = "projects/my-project/locations/global/workloadIdentityPools/broker/providers/broker-oidc"
	f := newFixture(t)
	form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": readSub, "aud": "//iam.googleapis.com/" + name}}))
	form.Set("audience", "//iam.googleapis.com/"+name)
	if status, body := f.postSTS(t, form); status != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Errorf("STS for audience //iam.googleapis.com/%s (project id, not number): %d %v, want 400 invalid_request", name, status, body)
	}
	// A provider of the same shape under a project number is still taken.
	ok := Config{Providers: []Provider{{Name: prefix + strings.Repeat("a", 32) + "/providers/" + strings.Repeat("0", 4), Issuer: "https://i"}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate() refused a provider with 32- and 4-character ids: %v", err)
	}
}

// TestAttributeMappingLimits: Google's attribute mapping takes at most 50 custom attributes
// and mapped attribute keys of at most 100 characters (WorkloadIdentityPoolProvider
// .attributeMapping reference), so Config.Validate refuses a mapping with more of either.
// Guards against: config.go:Validate any number of custom attributes and any key length taken
func TestAttributeMappingLimits(t *testing.T) {
	mapping := func(custom int, key string) map[string]string {
		m := map[string]string{"google.subject": "assertion.sub"}
		for i := 0; i < custom; i++ {
			m[fmt.Sprintf("attribute.a%d", i)] = "assertion.sub"
		}
		if key != "" {
			m[key] = "assertion.sub"
		}
		return m
	}
	for name, tc := range map[string]struct {
		mapping map[string]string
		ok      bool
	}{
		"a 101-character key":  {mapping(0, "attribute."+strings.Repeat("a", 91)), false},
		"a 111-character key":  {mapping(0, "attribute."+strings.Repeat("a", 101)), false},
		"51 custom attributes": {mapping(51, ""), false},
		"a 100-character key":  {mapping(0, "attribute."+strings.Repeat("a", 90)), true},
		"50 custom attributes": {mapping(50, ""), true},
	} {
		cfg := Config{Providers: []Provider{{Name: testProvider, Issuer: "https://i", AttributeMapping: tc.mapping}}}
		if err := cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", name, err, tc.ok)
		}
	}
}
