package server

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/internal/trust"
)

// runVaultCLI runs script with sh, the real vault CLI on its PATH logged in to v as root, and
// stdin on its standard input, as an operator runs a line `broker trust vault` prints. It fails
// the test when the script fails or Vault warns (an unrecognized parameter is only a warning).
func runVaultCLI(t *testing.T, v *vaulttest.Server, script string, stdin []byte) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(vaulttest.Binary())+":"+os.Getenv("PATH"),
		"VAULT_ADDR="+v.Addr(), "VAULT_TOKEN="+v.RootToken(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	if strings.Contains(string(out), "WARNING") {
		t.Fatalf("%s: Vault warned:\n%s", script, out)
	}
}

// installPrintedRole renders `broker trust vault` for stack and scope on ts's configuration and
// pipes the role's JSON, encoded as the command encodes it, into the text printed beside it,
// as the README tells an operator to install it. It returns the printed role.
func installPrintedRole(t *testing.T, ts *testServer, v *vaulttest.Server, stack string, scope runs.Scope) map[string]any {
	t.Helper()
	req := trust.Request{Provider: "vault", Stack: stack, Scope: scope}
	doc, err := trust.Render(ts.srv.cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	script, err := trust.VaultWriteCommand(ts.srv.cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	runVaultCLI(t, v, script, buf.Bytes())
	var role map[string]any
	remarshal(t, doc, &role)
	return role
}

// vaultLogin logs in to role at mount of v with jwt, without a token, as broker does.
func vaultLogin(t *testing.T, v *vaulttest.Server, mount, role, jwt string) error {
	t.Helper()
	c, err := v.Client().Clone()
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken()
	_, err = c.Logical().WriteWithContext(context.Background(), "auth/"+mount+"/login", map[string]any{"role": role, "jwt": jwt})
	return err
}
