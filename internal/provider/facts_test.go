package provider

import (
	"testing"
	"time"
)

// TestEnvNames: the environment each provider's exchange may hand a run, by the names each
// cloud's own tools read: always set ones and the ones set when configured. `broker credentials`
// prints only names MaySet admits.
func TestEnvNames(t *testing.T) {
	for _, tc := range []struct {
		provider      string
		env, optional []string
	}{
		{AWS, []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}, []string{"AWS_REGION", "AWS_DEFAULT_REGION"}},
		{GCP, []string{"GOOGLE_OAUTH_ACCESS_TOKEN"}, nil},
		{Azure, []string{"ARM_TENANT_ID", "ARM_CLIENT_ID", "ARM_USE_OIDC", "ARM_OIDC_TOKEN"}, []string{"ARM_SUBSCRIPTION_ID", "ARM_ENVIRONMENT"}},
		{Vault, []string{"VAULT_ADDR", "VAULT_TOKEN"}, []string{"VAULT_NAMESPACE"}},
	} {
		f, ok := Lookup(tc.provider)
		if !ok {
			t.Fatalf("no provider %s", tc.provider)
		}
		for _, name := range append(append([]string{}, tc.env...), tc.optional...) {
			if !f.MaySet(name) {
				t.Errorf("%s: MaySet(%s) = false", tc.provider, name)
			}
		}
		for _, name := range tc.env {
			found := false
			for _, e := range f.Env {
				found = found || e == name
			}
			if !found {
				t.Errorf("%s: %s is not among the variables always set: %v", tc.provider, name, f.Env)
			}
		}
		if f.MaySet("PATH") {
			t.Errorf("%s: MaySet(PATH)", tc.provider)
		}
	}
}

// TestUpstreamLifetimeBounds: the lifetimes STS grants (DurationSeconds 900 to 43200) and
// the floor of a Google or Vault lifetime (one still leaving 30s when it arrives).
func TestUpstreamLifetimeBounds(t *testing.T) {
	for name, tc := range map[string]struct{ got, want time.Duration }{
		"AWSMinSession":      {AWSMinSession, 900 * time.Second},
		"AWSMaxSession":      {AWSMaxSession, 43200 * time.Second},
		"AWSDefaultSession":  {AWSDefaultSession, time.Hour},
		"GCPDefaultLifetime": {GCPDefaultLifetime, time.Hour},
		"MinValidity":        {MinValidity, 30 * time.Second},
		"MinLifetime":        {MinLifetime, time.Minute},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %s, want %s", name, tc.got, tc.want)
		}
	}
}
