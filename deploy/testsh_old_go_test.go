package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// oldGoScript acts as Debian bookworm's golang-go (Go 1.19): it reports its version and,
// for golang.org/toolchain, the module directory the Go module proxy would give; every other
// command is logged and fails as Go 1.19 does on go.mod's three-part go line.
const oldGoScript = `#!/bin/sh
case "$*" in
  "env GOVERSION") echo go1.19.8; exit 0 ;;
  "env GOOS") echo linux; exit 0 ;;
  "env GOARCH") echo amd64; exit 0 ;;
  "env GOOS GOARCH") printf 'linux\namd64\n'; exit 0 ;;
  version) echo "go version go1.19.8 linux/amd64"; exit 0 ;;
  "mod download -json golang.org/toolchain@"*)
    printf '{\n\t"Dir": "%s",\n}\n' "$OLDGO_TOOLCHAIN"; exit 0 ;;
esac
echo "$*" >> "$OLDGO_LOG"
echo "go: errors parsing go.mod: invalid go version '1.26.8': must match format 1.23" >&2
exit 1
`

// writeStub writes the executable script body at path.
func writeStub(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestTestShWorksWithDebiansGo checks that scripts/test.sh, given only a Go older than 1.21
// (Debian bookworm's golang-go is 1.19, which neither reads go.mod's go line nor switches
// toolchains), gets the toolchain go.mod names before it runs go vet or go test.
func TestTestShWorksWithDebiansGo(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "bin")
	toolchain := filepath.Join(tmp, "toolchain")
	for _, d := range []string{bin, filepath.Join(toolchain, "bin"), filepath.Join(toolchain,
		"pkg", "tool", "linux_amd64"), filepath.Join(tmp, "cache", "vault-v1.21.0")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeStub(t, filepath.Join(bin, "go"), oldGoScript)
	for _, tool := range []string{"redis-server", "redis-sentinel", "curl", "jq", "aws", "nginx",
		"systemd-analyze"} {
		writeStub(t, filepath.Join(bin, tool), "#!/bin/sh\nexit 0\n")
	}
	// The toolchain module's Go (file modes as the module cache leaves them: not executable).
	newGo := "#!/bin/sh\n[ \"$1\" = version ] && echo 'go version go1.26.8 linux/amd64'\nexit 0\n"
	for name, body := range map[string]string{"bin/go": newGo, "pkg/tool/linux_amd64/vet": newGo} {
		if err := os.WriteFile(filepath.Join(toolchain, name), []byte(body), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	writeStub(t, filepath.Join(tmp, "cache", "vault-v1.21.0", "vault"), "#!/bin/sh\nexit 0\n")
	log := filepath.Join(tmp, "oldgo.log")
	cmd := exec.Command("bash", "../scripts/test.sh")
	cmd.Env = []string{
		"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + tmp, "XDG_CACHE_HOME=" + tmp,
		"BROKER_CACHE=" + filepath.Join(tmp, "cache"), "OLDGO_LOG=" + log,
		"OLDGO_TOOLCHAIN=" + toolchain,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("test.sh with Debian's Go 1.19 as the only Go: %v\n%s", err, out)
	}
	used, _ := os.ReadFile(log)
	for _, line := range strings.Split(strings.TrimSpace(string(used)), "\n") {
		for _, sub := range []string{"vet", "test", "build"} {
			if strings.HasPrefix(line, sub+" ") {
				t.Errorf("test.sh ran `go %s` with Debian's Go 1.19", line)
			}
		}
	}
}
