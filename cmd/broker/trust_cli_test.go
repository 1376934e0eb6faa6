package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/testutil/vaulttest"
)

// trustConfig writes a configuration with a Vault integration attached to stack s1.
func trustConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "broker.yaml")
	data := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}, {id: demo, parent: root, inherit: true}]
stacks: [{id: s1, space: demo}]
integrations:
  - {id: v, space: demo, audience: vault, vault: {address: "http://127.0.0.1:1", mount: ci-jwt, role: deployer}}
attachments:
  - {stack: s1, integration: v, read: true, write: true}
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrustReadsBrokerConfig requires broker trust to read BROKER_CONFIG when --config is absent,
// as broker serve does, rather than ask for a flag or a live broker.
func TestTrustReadsBrokerConfig(t *testing.T) {
	cfg := trustConfig(t)
	r := broker(t, []string{"BROKER_CONFIG=" + cfg, "BROKER_URL=", "BROKER_API_KEY="}, "trust", "vault", "--stack", "s1", "--scope", "read")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var role map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &role); err != nil {
		t.Fatalf("stdout is not the role's JSON alone: %v: %q", err, r.stdout)
	}
	// v serves s1 for read and write through one role: the role accepts both scopes.
	if claims, _ := role["bound_claims"].(map[string]any); claims["callerId"] != "s1" || fmt.Sprint(claims["scope"]) != "[read write]" {
		t.Errorf("role of the wrong stack or scope: %v", role)
	}
}

// TestTrustVaultPrintsTheWriteCommand requires broker trust vault to name the vault command that
// installs its output, with the integration's own mount and role, and that command, run as
// printed by the real vault CLI with the output on its standard input, to install the role in
// a real Vault.
func TestTrustVaultPrintsTheWriteCommand(t *testing.T) {
	r := broker(t, []string{"BROKER_CONFIG=", "BROKER_URL="}, "trust", "vault", "--config", trustConfig(t), "--stack", "s1", "--scope", "write")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	const want = "vault write auth/ci-jwt/role/deployer -"
	if !strings.Contains(r.stderr, want+"\n") && !strings.HasSuffix(strings.TrimSpace(r.stderr), want) {
		t.Fatalf("no ready vault write line: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if !json.Valid([]byte(r.stdout)) {
		t.Fatalf("stdout is not JSON alone, so it cannot be piped into vault write: %q", r.stdout)
	}
	// Vault checks iss only against the mount's bound_issuer: the mount's line names it.
	const mount = "vault write auth/ci-jwt/config oidc_discovery_url=https://broker.example.com bound_issuer=https://broker.example.com"
	if !strings.Contains(r.stderr, ": "+mount+"\n") {
		t.Errorf("no line configuring the mount with bound_issuer: stderr %q", r.stderr)
	}

	v := vaulttest.Start(t)
	client := v.Client()
	if err := client.Sys().EnableAuthWithOptions("ci-jwt", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(vaulttest.Binary(), filepath.Join(bin, "vault")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", want)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(r.stdout)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "VAULT_ADDR=" + v.Addr(), "VAULT_TOKEN=" + v.RootToken()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%q with the role on its standard input: %v: %s", want, err, out)
	}
	got, err := client.Logical().Read("auth/ci-jwt/role/deployer")
	if err != nil || got == nil {
		t.Fatalf("reading the role back: %v", err)
	}
	var printed map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &printed); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Data["bound_claims"]) != fmt.Sprint(printed["bound_claims"]) || fmt.Sprint(got.Data["bound_audiences"]) != fmt.Sprint(printed["bound_audiences"]) {
		t.Errorf("Vault holds bound_claims %v and bound_audiences %v, broker printed %v and %v",
			got.Data["bound_claims"], got.Data["bound_audiences"], printed["bound_claims"], printed["bound_audiences"])
	}
}

// TestTrustUsageErrors: an unknown provider is a usage error: exit 2 and one line. An
// assume-role integration without --aws-principal, as the contract's command line has it,
// prints its policy with a placeholder IAM refuses as a principal, and a note saying so.
func TestTrustUsageErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.yaml")
	data := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
integrations:
  - {id: a, space: root, aws: {mode: assume-role, role_arn: "arn:aws:iam::123456789012:role/x"}}
attachments:
  - {stack: s1, integration: a, read: true}
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	r := broker(t, nil, "trust", "bogus", "--config", path, "--stack", "s1", "--scope", "read")
	if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("unknown provider: exit %d, stderr %q; want 2 and one line", r.code, r.stderr)
	}

	for _, args := range [][]string{
		{"trust", "aws", "--config", path, "--stack", "s1", "--scope", "read"},
		{"trust", "aws", "--config", path, "--stack", "s1", "--scope", "read", "--integration", "a"},
	} {
		r := broker(t, []string{"BROKER_CONFIG=", "BROKER_URL=", "BROKER_API_KEY="}, args...)
		var policy struct {
			Statement []struct {
				Principal map[string]string
				Action    []string
				Condition map[string]map[string][]string
			}
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &policy) != nil || len(policy.Statement) != 1 {
			t.Fatalf("%v: exit %d, stderr %q, stdout %q; want 0 and the policy", args, r.code, r.stderr, r.stdout)
		}
		st := policy.Statement[0]
		if st.Principal["AWS"] != principalPlaceholder || fmt.Sprint(st.Action) != "[sts:AssumeRole]" ||
			fmt.Sprint(st.Condition["StringEquals"]["sts:ExternalId"]) != "[broker.example.com@a@s1@read]" {
			t.Errorf("%v: statement %+v, want the placeholder principal and the read ExternalId", args, st)
		}
		if !strings.Contains(r.stderr, "replace it, or pass --aws-principal ARN") {
			t.Errorf("%v: stderr %q, want the note on the placeholder", args, r.stderr)
		}
	}
	r = broker(t, []string{"BROKER_CONFIG=", "BROKER_URL=", "BROKER_API_KEY="}, "trust", "aws", "--config", path, "--stack", "s1", "--scope", "read",
		"--aws-principal", "arn:aws:iam::111122223333:role/broker")
	if r.code != 0 || strings.Contains(r.stdout, principalPlaceholder) || !strings.Contains(r.stdout, "arn:aws:iam::111122223333:role/broker") || r.stderr != "" {
		t.Errorf("with --aws-principal: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestTrustAWSNotesIAMQuota: a trust policy over IAM's default quota (2,048 characters) is
// printed with a note on stderr saying so; stdout stays the policy alone.
func TestTrustAWSNotesIAMQuota(t *testing.T) {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nlisten: 127.0.0.1:0\nspaces: [{id: root}, {id: prod, parent: root, inherit: true}]\nstacks:\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "  - {id: stack-%02d, space: prod, labels: [platform]}\n", i)
	}
	b.WriteString("integrations:\n  - {id: aws-w, space: prod, aws: {role_arn: \"arn:aws:iam::123456789012:role/platform-write\"}, autoattach: [{label: platform, write: true}]}\n")
	path := filepath.Join(t.TempDir(), "broker.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := broker(t, []string{"BROKER_CONFIG=", "BROKER_URL="}, "trust", "aws", "--config", path, "--stack", "stack-01", "--scope", "write")
	var policy map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &policy) != nil || !strings.Contains(r.stderr, "IAM takes 2048 unless the account's quota is raised") {
		t.Errorf("exit %d, stderr %q, stdout a policy: %v", r.code, r.stderr, policy != nil)
	}
}

// TestTrustNotesReadBesideWrite: when read attachments share the cloud identity that stacks are
// attached to for write, what broker trust prints admits both, so it says so on stderr, naming
// the read pairs: a pull request's token takes what write runs take. A role read only is
// printed without the note.
func TestTrustNotesReadBesideWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broker.yaml")
	data := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: v, space: root}, {id: w, space: root}, {id: x, space: root}]
integrations:
  - {id: deploy, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/deploy-write"}}
  - {id: reader, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/Deploy-Write"}}
  - {id: other, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/plan"}}
attachments:
  - {stack: v, integration: deploy, write: true}
  - {stack: w, integration: reader, read: true}
  - {stack: x, integration: other, read: true}
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"BROKER_CONFIG=", "BROKER_URL=", "BROKER_API_KEY="}
	r := broker(t, env, "trust", "aws", "--config", path, "--stack", "v", "--scope", "write")
	if r.code != 0 || !strings.Contains(r.stderr, "w (read) through reader") || !strings.Contains(r.stderr, "a pull request's among them") {
		t.Errorf("the write role read through another spelling: exit %d, stderr %q; want the note naming w", r.code, r.stderr)
	}
	r = broker(t, env, "trust", "aws", "--config", path, "--stack", "x", "--scope", "read")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("a role read only: exit %d, stderr %q; want no note", r.code, r.stderr)
	}
}
