package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
)

// staleRole is a role as an earlier setup or a hand edit may have left it: every field that
// widens what a token gets or how long it lives, or which JWT logs in, set to something broker
// never intends, plus fields that would lock broker out (a bound subject, bound CIDRs, a groups
// claim its tokens lack) and the deprecated twins of the token fields.
var staleRole = map[string]any{
	"bound_audiences": []string{"vault"}, "user_claim": "sub", "bound_claims": map[string]any{"callerId": "vpc-prod"},
	"token_period": "24h", "token_explicit_max_ttl": "768h", "token_num_uses": 5, "token_type": "default",
	"token_bound_cidrs": []string{"10.0.0.0/8"}, "token_policies": []string{"root-ish"},
	"clock_skew_leeway": 86400, "expiration_leeway": 86400, "not_before_leeway": 86400,
	"claim_mappings": map[string]string{"sub": "stale"}, "bound_subject": "someone-else",
	"groups_claim": "groups", "user_claim_json_pointer": true, "bound_claims_type": "glob",
	"max_ttl": "768h", "ttl": "2h", "num_uses": 5,
}

// TestVaultRoleInstalledAsPrinted: `vault write auth/<mount>/role/<role> -` updates a role in
// place, keeping each field its input leaves out; the role `broker trust vault` prints, piped
// into the line printed beside it, leaves the real Vault holding exactly the printed role,
// whether the role is new or an earlier one held other values. Its VAULT_TOKEN is not periodic,
// dies at the role's TTL however it is renewed, has no use limit and no mapped metadata, and
// the role accepts a JWT at most 60s past its exp.
func TestVaultRoleInstalledAsPrinted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before map[string]any
	}{
		{"new role", nil},
		{"over a stale role", staleRole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := vaulttest.Start(t)
			ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: vault-write, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc-write}}
attachments:
  - {stack: vpc-prod, integration: vault-write, write: true}
`, v.Addr())})
			v.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: ts.URL, BoundIssuer: ts.URL})
			if tc.before != nil {
				v.WriteRole(t, "jwt", "vpc-write", tc.before)
			}
			printed := installPrintedRole(t, ts, v, "vpc-prod", runs.Write)

			stored, err := v.Client().Logical().Read("auth/jwt/role/vpc-write")
			if err != nil || stored == nil {
				t.Fatalf("reading the role back: %v", err)
			}
			for field, want := range printed {
				if got := vaultValue(t, stored.Data[field]); got != printedValue(t, field, want) {
					t.Errorf("Vault holds %s = %s, broker printed %s", field, got, printedValue(t, field, want))
				}
			}
			for _, old := range []string{"period", "ttl", "max_ttl", "num_uses", "policies", "bound_cidrs"} {
				if got, ok := stored.Data[old]; ok {
					t.Errorf("Vault kept the deprecated %s = %v", old, got)
				}
			}
			if skew := vaultValue(t, stored.Data["clock_skew_leeway"]); skew != "60" {
				t.Errorf("the role accepts JWTs %s s past their exp, want 60", skew)
			}

			run := ts.createRun(t, "vpc-prod", "TRACKED")
			ts.setPhase(t, run.Run.ID, "APPLYING")
			creds, code, env := ts.credentials(t, run.RunToken, "vault", "")
			if code != 200 {
				t.Fatalf("credentials from the role as printed: %d %+v", code, env.Error)
			}
			c, err := v.Client().Clone()
			if err != nil {
				t.Fatal(err)
			}
			c.SetToken(creds.Env["VAULT_TOKEN"])
			self, err := c.Auth().Token().LookupSelf()
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := self.Data["period"]; ok && p != nil {
				t.Errorf("the VAULT_TOKEN is periodic (period %v s): renewable without end", p)
			}
			if got := vaultValue(t, self.Data["explicit_max_ttl"]); got != "3600" {
				t.Errorf("the VAULT_TOKEN's explicit_max_ttl is %s s, want the role's TTL, 3600", got)
			}
			if got := vaultValue(t, self.Data["num_uses"]); got != "0" {
				t.Errorf("the VAULT_TOKEN has num_uses %s, want 0", got)
			}
			if meta := vaultValue(t, self.Data["meta"]); strings.Contains(meta, "stale") {
				t.Errorf("the VAULT_TOKEN carries metadata mapped from its claims: %s", meta)
			}
			if got := vaultValue(t, self.Data["policies"]); got != `["default","vpc-write"]` {
				t.Errorf("the VAULT_TOKEN's policies are %s, want the role's and Vault's default", got)
			}
		})
	}
}

// vaultValue is a value Vault answered, as JSON.
func vaultValue(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// printedValue is a field of the printed role as Vault answers it: a duration in seconds.
func printedValue(t *testing.T, field string, v any) string {
	t.Helper()
	if s, ok := v.(string); ok && (strings.HasSuffix(field, "_ttl") || strings.HasSuffix(field, "_period")) {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s = %q: %v", field, s, err)
		}
		return fmt.Sprint(int64(d / time.Second))
	}
	return vaultValue(t, v)
}
