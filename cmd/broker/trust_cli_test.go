package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
// installs its output, with the integration's own mount and role.
func TestTrustVaultPrintsTheWriteCommand(t *testing.T) {
	r := broker(t, []string{"BROKER_CONFIG=", "BROKER_URL="}, "trust", "vault", "--config", trustConfig(t), "--stack", "s1", "--scope", "write")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "vault write auth/ci-jwt/role/deployer @-") {
		t.Errorf("no ready vault write line: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if !json.Valid([]byte(r.stdout)) {
		t.Errorf("stdout is not JSON alone, so it cannot be piped into vault write: %q", r.stdout)
	}
}

// TestTrustUsageErrors: an unknown provider, and an assume-role integration without
// --aws-principal, are usage errors: exit 2 and one line.
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
	for _, args := range [][]string{
		{"trust", "bogus", "--config", path, "--stack", "s1", "--scope", "read"},
		{"trust", "aws", "--config", path, "--stack", "s1", "--scope", "read"},
	} {
		r := broker(t, nil, args...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args[1:2], r.code, r.stderr)
		}
	}
}
