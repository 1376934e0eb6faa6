package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/internal/trust"
)

// TestVaultCredentials runs the whole flow against a real Vault dev server that trusts broker
// through oidc_discovery_url: read phase → the read role, apply phase → the write role
// (asserted with Vault's own lookup-self), nothing attached → 404, Vault refusing → 502.
func TestVaultCredentials(t *testing.T) {
	v := vaulttest.Start(t)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: vault-read, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc-read}, audience: vault}
  - {id: vault-write, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc-write}, audience: vault}
  - {id: vault-misbound, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc-read}, audience: vault}
attachments:
  - {stack: vpc-prod, integration: vault-read, read: true}
  - {stack: vpc-prod, integration: vault-write, write: true}
  - {stack: app-a, integration: vault-misbound, read: true}
`, v.Addr())})
	v.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: ts.URL, BoundIssuer: ts.URL})
	v.WriteRole(t, "jwt", "vpc-read", map[string]any{
		"role_type": "jwt", "bound_audiences": []string{"vault"}, "user_claim": "sub",
		"bound_claims":   map[string]any{"callerId": "vpc-prod", "scope": "read"},
		"token_policies": []string{"default"}, "token_ttl": "10m",
	})
	// The write role is exactly what `broker trust vault` prints for the stack.
	v.WriteRole(t, "jwt", "vpc-write", trustRole(t, ts, "vpc-prod", runs.Write))

	run := ts.createRun(t, "vpc-prod", "TRACKED")
	read, code, env := ts.credentials(t, run.RunToken, "vault", "")
	if code != 200 {
		t.Fatalf("read-phase credentials: %d %s", code, env.Error.Message)
	}
	if read.Provider != "vault" || read.Integration != "vault-read" || read.Scope != "read" ||
		read.Env["VAULT_ADDR"] != v.Addr() || read.Env["VAULT_TOKEN"] == "" || read.Vault["clientToken"] != read.Env["VAULT_TOKEN"] {
		t.Fatalf("read answer %+v", read)
	}
	if role := lookupSelfRole(t, v, read.Env["VAULT_TOKEN"]); role != "vpc-read" {
		t.Errorf("read-phase VAULT_TOKEN belongs to role %q, want vpc-read", role)
	}
	// A read-phase run cannot ask for the write integration.
	if _, code, _ := ts.credentials(t, run.RunToken, "vault", "vault-write"); code != 403 {
		t.Errorf("write integration in a read phase: %d, want 403", code)
	}

	if code := ts.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
		t.Fatal(code)
	}
	write, code, env := ts.credentials(t, run.RunToken, "vault", "")
	if code != 200 || write.Integration != "vault-write" || write.Scope != "write" {
		t.Fatalf("apply-phase credentials: %d %s %+v", code, env.Error.Message, write)
	}
	if role := lookupSelfRole(t, v, write.Env["VAULT_TOKEN"]); role != "vpc-write" {
		t.Errorf("apply-phase VAULT_TOKEN belongs to role %q, want vpc-write", role)
	}

	// A stack whose read attachment points at a role bound to another stack: Vault refuses, 502.
	other := ts.createRun(t, "app-a", "TRACKED")
	_, code, env = ts.credentials(t, other.RunToken, "vault", "")
	if code != 502 || env.Error.Code != "upstream_error" || !strings.Contains(env.Error.Message, "claim") {
		t.Errorf("vault refusal: %d %+v", code, env.Error)
	}
	// Nothing attached for a provider: 404 naming stack, provider and scope.
	_, code, env = ts.credentials(t, run.RunToken, "gcp", "")
	if code != 404 || !strings.Contains(env.Error.Message, "vpc-prod") || !strings.Contains(env.Error.Message, "gcp") || !strings.Contains(env.Error.Message, "write") {
		t.Errorf("nothing attached: %d %+v", code, env.Error)
	}
	// A finished run gets nothing.
	ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret})
	if _, code, _ := ts.credentials(t, run.RunToken, "vault", ""); code != 401 {
		t.Errorf("finished run: %d, want 401", code)
	}
	assertNoSecretsLogged(t, ts, map[string]string{
		"read VAULT_TOKEN": read.Env["VAULT_TOKEN"], "write VAULT_TOKEN": write.Env["VAULT_TOKEN"], "run token": run.RunToken,
	})
}

// trustRole renders `broker trust vault` for a stack and scope, with the default policy so the
// dev server can grant it.
func trustRole(t *testing.T, ts *testServer, stack string, scope runs.Scope) map[string]any {
	t.Helper()
	cfg := ts.srv.cfg
	doc, err := trust.Render(cfg, trust.Request{Provider: "vault", Stack: stack, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	var role map[string]any
	remarshal(t, doc, &role)
	role["token_policies"] = []string{"default"}
	return role
}

// lookupSelfRole asks Vault which JWT role a token was issued for.
func lookupSelfRole(t *testing.T, v *vaulttest.Server, token string) string {
	t.Helper()
	c, err := v.Client().Clone()
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	secret, err := c.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("lookup-self with the issued VAULT_TOKEN: %v", err)
	}
	meta, _ := secret.Data["meta"].(map[string]any)
	role, _ := meta["role"].(string)
	return role
}

// TestVaultRoleServingBothScopes: an integration attached for read and write logs in to one
// Vault role; the role `broker trust vault` prints for the read scope, installed in a real
// Vault, serves the run in both phases, since installing the write scope's would replace it.
func TestVaultRoleServingBothScopes(t *testing.T) {
	v := vaulttest.Start(t)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: vault-both, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc}, audience: vault}
attachments:
  - {stack: vpc-prod, integration: vault-both, read: true, write: true}
`, v.Addr())})
	v.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: ts.URL, BoundIssuer: ts.URL})
	v.WriteRole(t, "jwt", "vpc", trustRole(t, ts, "vpc-prod", runs.Read))
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	for _, phase := range []string{"PLANNING", "APPLYING"} {
		if code := ts.setPhase(t, run.Run.ID, phase); code != 200 {
			t.Fatal(code)
		}
		got, code, env := ts.credentials(t, run.RunToken, "vault", "")
		if code != 200 || got.Env["VAULT_TOKEN"] == "" {
			t.Errorf("%s: credentials %d %s, want a Vault token from the one role", phase, code, env.Error.Message)
		}
	}
}

// TestVaultTokenEndsAtTheDuration: the role `broker trust vault` prints, in a real Vault,
// hands out a VAULT_TOKEN that no renewal keeps past the integration's duration, also once
// its run finished: the role's token_max_ttl is its token_ttl.
func TestVaultTokenEndsAtTheDuration(t *testing.T) {
	v := vaulttest.Start(t)
	const duration = time.Minute // provider.MinLifetime, the least a Vault duration may be
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: vault-write, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc-write}, audience: vault, duration: 60s}
attachments:
  - {stack: vpc-prod, integration: vault-write, write: true}
`, v.Addr())})
	v.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: ts.URL, BoundIssuer: ts.URL})
	role := trustRole(t, ts, "vpc-prod", runs.Write)
	v.WriteRole(t, "jwt", "vpc-write", role)

	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if code := ts.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
		t.Fatal(code)
	}
	issued := time.Now()
	creds, code, env := ts.credentials(t, run.RunToken, "vault", "")
	if code != 200 {
		t.Fatalf("credentials: %d %s", code, env.Error.Message)
	}
	ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret})

	c, err := v.Client().Clone()
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(creds.Env["VAULT_TOKEN"])
	time.Sleep(2 * time.Second)
	renewed, err := c.Auth().Token().RenewSelf(int(duration.Seconds()))
	if err != nil {
		return // refused: it cannot be kept either
	}
	ttl := time.Duration(renewed.Auth.LeaseDuration) * time.Second
	expires := time.Now().Add(ttl)
	if limit := issued.Add(duration + time.Second); expires.After(limit) {
		t.Errorf("after its run finished, a renewal made the VAULT_TOKEN expire %v after issue (lease %v); the integration's duration is %v",
			expires.Sub(issued).Round(time.Second), ttl, duration)
	}
}

// TestVaultTokenRefusedIsRevokedInVault: a real Vault whose role hands out tokens living far
// longer than the integration's duration gets its login refused (502) and the token it made
// revoked by broker with itself, so that no token nobody holds stays alive in Vault with the
// role's policies.
func TestVaultTokenRefusedIsRevokedInVault(t *testing.T) {
	v := vaulttest.Start(t)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: vault-write, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc-write}, audience: vault, duration: 60s}
attachments:
  - {stack: vpc-prod, integration: vault-write, write: true}
`, v.Addr())})
	v.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: ts.URL, BoundIssuer: ts.URL})
	role := trustRole(t, ts, "vpc-prod", runs.Write)
	role["token_ttl"], role["token_max_ttl"], role["token_explicit_max_ttl"] = "768h", "768h", "768h"
	v.WriteRole(t, "jwt", "vpc-write", role)
	accessors := func() int {
		t.Helper()
		s, err := v.Client().Logical().List("auth/token/accessors")
		if err != nil || s == nil {
			t.Fatalf("list token accessors: %v", err)
		}
		keys, _ := s.Data["keys"].([]any)
		return len(keys)
	}
	before := accessors()

	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if code := ts.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
		t.Fatal(code)
	}
	if _, code, env := ts.credentials(t, run.RunToken, "vault", ""); code != 502 {
		t.Fatalf("credentials from a role living 768h against a 60s duration: %d %s, want 502", code, env.Error.Message)
	}
	// The refusal is answered before the revocation is sent.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		after := accessors()
		if after == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Vault holds %d tokens after the refused login, %d before: the refused token is alive", after, before)
		}
	}
}
