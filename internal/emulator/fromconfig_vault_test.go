package emulator

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/trust"
)

// TestEmbeddedDefaultVault: the embedded default's Vault integration logs in at the emulator
// for demo-stack's runs, read and write, and for no other stack or audience.
func TestEmbeddedDefaultVault(t *testing.T) {
	cfg, _, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	iss := oidctest.Start(t)
	cfg.Issuer = iss.URL // the emulator verifies against the issuer's JWKS; the test signs for broker
	set, err := FromConfig(cfg, "https://127.0.0.1:8082/azure")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(set.HTTPHandler())
	defer srv.Close()
	in, ok := cfg.Integration("vault-demo")
	if !ok || in.Vault == nil {
		t.Fatal("the embedded default has no vault-demo integration")
	}
	if !strings.HasSuffix(in.Vault.Address, "127.0.0.1:8081"+VaultPath) {
		t.Errorf("vault-demo points at %s, not the emulator's %s", in.Vault.Address, VaultPath)
	}
	login := func(stack string, scope runs.Scope, aud string) error {
		t.Helper()
		subs, err := trust.Subjects(cfg, "demo-stack", scope)
		if err != nil {
			t.Fatal(err)
		}
		jwt := iss.Sign(t, oidctest.Token{Claims: map[string]any{
			"sub": strings.ReplaceAll(subs[0], "*", "01J00000000000000000000000"), "aud": aud,
			"spaceId": "demo", "callerType": "stack", "callerId": stack, "scope": string(scope),
		}})
		client, err := vaultapi.NewClient(&vaultapi.Config{Address: srv.URL + VaultPath, MaxRetries: 0})
		if err != nil {
			t.Fatal(err)
		}
		client.ClearToken()
		secret, err := client.Logical().Write("auth/"+in.Vault.Mount+"/login", map[string]any{"role": in.Vault.Role, "jwt": jwt})
		if err == nil && (secret == nil || secret.Auth == nil || !slices.Contains(secret.Auth.Policies, in.Vault.Role)) {
			t.Errorf("login answer %+v", secret)
		}
		return err
	}
	for _, scope := range []runs.Scope{runs.Read, runs.Write} {
		if err := login("demo-stack", scope, in.Audience); err != nil {
			t.Errorf("demo-stack %s: %v", scope, err)
		}
	}
	if err := login("other-stack", runs.Read, in.Audience); err == nil || !strings.Contains(err.Error(), `claim "callerId" does not match`) {
		t.Errorf("another stack: %v", err)
	}
	if err := login("demo-stack", runs.Read, "sts.amazonaws.com"); err == nil || !strings.Contains(err.Error(), "invalid audience (aud) claim") {
		t.Errorf("another audience: %v", err)
	}
	for _, n := range set.Notes {
		if strings.Contains(strings.ToLower(n), "vault") {
			t.Errorf("note about Vault: %s", n)
		}
	}
}

// TestVaultRoleNeverWidens: a role shared by attachments whose bound claims one Vault role
// cannot hold without accepting another (stack, scope) is left out, with a note.
func TestVaultRoleNeverWidens(t *testing.T) {
	cfg, _, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stacks = append(cfg.Stacks, config.Stack{ID: "other-stack", Space: "demo"})
	var kept []config.Attachment
	for _, at := range cfg.Attachments {
		if at.Integration == "vault-demo" {
			at.Write = false // demo-stack read only ...
		}
		kept = append(kept, at)
	}
	// ... and other-stack write only: merged, scope [read write] x callerId [demo-stack other-stack]
	// would let demo-stack write.
	cfg.Attachments = append(kept, config.Attachment{Stack: "other-stack", Integration: "vault-demo", Write: true})
	set, err := FromConfig(cfg, "https://127.0.0.1:8082/azure")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.vaultConfig.Mounts) != 0 {
		t.Errorf("vault mounts %+v: the shared role must not be emulated", set.vaultConfig.Mounts)
	}
	if !slices.ContainsFunc(set.Notes, func(n string) bool { return strings.Contains(n, `Vault role "demo"`) }) {
		t.Errorf("notes %v should say why the role is not emulated", set.Notes)
	}
}
