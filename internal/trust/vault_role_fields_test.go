package trust

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestVaultRoleSetsEveryWideningField: `vault write` keeps each field of an existing role that
// its input leaves out, so the printed role writes out every field of Vault's JWT auth role
// (v1.21) that widens what a token gets or how long it lives, or which JWT logs in, with
// broker's value; a role shared by two attachments (merged bound claims) keeps them.
// token_no_default_policy stays out: Vault's default policy lets a client renew its token.
func TestVaultRoleSetsEveryWideningField(t *testing.T) {
	want := map[string]string{
		"role_type":               `"jwt"`,
		"bound_subject":           `""`,
		"user_claim":              `"sub"`,
		"user_claim_json_pointer": `false`,
		"bound_claims_type":       `"string"`,
		"claim_mappings":          `{}`,
		"groups_claim":            `""`,
		"clock_skew_leeway":       `60`,
		"expiration_leeway":       `-1`,
		"not_before_leeway":       `-1`,
		"token_policies":          `["vpc-prod"]`,
		"token_type":              `"service"`,
		"token_ttl":               `"1h"`,
		"token_max_ttl":           `"1h"`,
		"token_explicit_max_ttl":  `"1h"`,
		"token_period":            `"0s"`,
		"token_num_uses":          `0`,
		"token_bound_cidrs":       `[]`,
	}
	for _, scope := range []runs.Scope{runs.Read, runs.Write} {
		var role map[string]json.RawMessage
		if err := json.Unmarshal([]byte(render(t, exampleConfig(t), Request{Provider: "vault", Stack: "vpc-prod", Scope: scope})), &role); err != nil {
			t.Fatal(err)
		}
		for field, value := range want {
			if got, ok := role[field]; !ok || string(got) != value {
				t.Errorf("%s: %s is %s, want %s written out", scope, field, got, value)
			}
		}
		if _, ok := role["token_no_default_policy"]; ok {
			t.Errorf("%s: the role sets token_no_default_policy", scope)
		}
	}
}

// TestVaultAuthConfigCommand: the mount's configuration line names broker's exact issuer as
// both oidc_discovery_url and bound_issuer, in the integration's namespace.
func TestVaultAuthConfigCommand(t *testing.T) {
	cfg := exampleConfig(t)
	req := Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Write}
	for _, tc := range []struct{ namespace, want string }{
		{"", "vault write auth/jwt/config oidc_discovery_url=https://broker.example.com bound_issuer=https://broker.example.com"},
		{"team-a", "vault write -namespace=team-a auth/jwt/config oidc_discovery_url=https://broker.example.com bound_issuer=https://broker.example.com"},
	} {
		setVaultNamespace(cfg, tc.namespace)
		got, err := VaultAuthConfigCommand(cfg, req)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("namespace %q:\n %s\nwant\n %s", tc.namespace, got, tc.want)
		}
	}
	if _, err := VaultAuthConfigCommand(cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write}); err == nil {
		t.Error("an aws request has a Vault mount configuration")
	}
}

// setVaultNamespace puts every Vault integration of cfg in namespace ns.
func setVaultNamespace(cfg *config.Config, ns string) {
	for i := range cfg.Integrations {
		if v := cfg.Integrations[i].Vault; v != nil {
			v.Namespace = ns
		}
	}
}

// TestVaultSecondsNeverZero: Vault reads a role's TTLs in whole seconds and takes 0 for the
// mount's default lifetime (32 days unless tuned), so a duration is printed rounded up.
func TestVaultSecondsNeverZero(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "1h"},
		{500 * time.Millisecond, "1s"},
		{40 * time.Second, "40s"},
		{40*time.Second + time.Millisecond, "41s"},
		{15 * time.Minute, "900s"},
	} {
		if got := vaultSeconds(tc.d); got != tc.want {
			t.Errorf("vaultSeconds(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
