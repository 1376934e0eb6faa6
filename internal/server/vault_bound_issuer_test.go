package server

import (
	"fmt"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/internal/trust"
)

// TestVaultMountConfiguredAsPrintedChecksTheIssuer: a JWT auth mount configured with the line
// `broker trust vault` prints (oidc_discovery_url and bound_issuer, both the issuer) logs in
// broker's tokens and refuses those of another issuer whose tokens the JWKS verifies: a second
// broker sharing keys.dir (staging beside production). Vault checks `iss` only against
// bound_issuer; with oidc_discovery_url alone it takes the other broker's tokens.
func TestVaultMountConfiguredAsPrintedChecksTheIssuer(t *testing.T) {
	v := vaulttest.Start(t)
	keys := t.TempDir()
	extra := fmt.Sprintf(`
integrations:
  - {id: vault-write, space: prod, vault: {address: %[1]q, mount: jwt, role: vpc-write}}
attachments:
  - {stack: vpc-prod, integration: vault-write, write: true}
`, v.Addr())
	prod := startServer(t, serverOptions{keyBackend: "file", keyDir: keys, extraYAML: extra})
	other := startServer(t, serverOptions{keyBackend: "file", keyDir: keys, extraYAML: extra})
	if other.URL == prod.URL {
		t.Fatal("both brokers have one issuer")
	}
	if err := v.Client().Sys().EnableAuthWithOptions("jwt", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	line, err := trust.VaultAuthConfigCommand(prod.srv.cfg, trust.Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	if want := "vault write auth/jwt/config oidc_discovery_url=" + prod.URL + " bound_issuer=" + prod.URL; line != want {
		t.Errorf("printed %q, want %q", line, want)
	}
	runVaultCLI(t, v, line, nil)
	installPrintedRole(t, prod, v, "vpc-prod", runs.Write)

	for _, tc := range []struct {
		name   string
		broker *testServer
		admit  bool
	}{
		{"the trusted issuer", prod, true},
		{"another issuer, same keys", other, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := tc.broker.createRun(t, "vpc-prod", "TRACKED")
			tc.broker.setPhase(t, run.Run.ID, "APPLYING")
			jwt, code := tc.broker.mint(t, run.RunToken, "vault")
			if code != 200 {
				t.Fatalf("mint: %d", code)
			}
			err := vaultLogin(t, v, "jwt", "vpc-write", jwt.Token)
			switch {
			case tc.admit && err != nil:
				t.Errorf("a token of the configured issuer %s was refused: %v", prod.URL, err)
			case !tc.admit && err == nil:
				t.Errorf("a token of issuer %s logged in to the write role of a Vault that trusts issuer %s", tc.broker.URL, prod.URL)
			}
		})
	}
}
