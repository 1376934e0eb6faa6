package trust

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// The vault lines `broker trust` prints are run by a POSIX shell as they stand: every word is
// quoted, so a value holding shell syntax (';', '$', a quote) reaches vault as one literal word,
// adding no word and no command. Configuration validation keeps such values out of the issuer,
// the mount and the namespace today; the quoting does not rely on it.
// Guards against: vault_command.go shellWord returns every word unquoted
func TestVaultCommandWordsAreShellSafe(t *testing.T) {
	const odd = "https://broker.example.com/a;b$HOME'c"
	line := vaultCommand(&config.Vault{Mount: "jwt"}, "config",
		"oidc_discovery_url="+odd, "bound_issuer="+odd)
	bin := t.TempDir()
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n"
	if err := os.WriteFile(filepath.Join(bin, "vault"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=/nonexistent"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v: %s", line, err, out)
	}
	want := fmt.Sprintf("write\nauth/jwt/config\noidc_discovery_url=%s\nbound_issuer=%s\n", odd, odd)
	if string(out) != want {
		t.Errorf("the shell ran %q as the words\n%s\nwant\n%s", line, out, want)
	}
}
