package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/tooltest"
)

// readmeBlocks returns the fenced code blocks of README.md that follow a `<!-- NAME -->` marker
// line, by NAME.
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	lines := strings.Split(string(raw), "\n")
	for i := 0; i < len(lines); i++ {
		m := readmeMarker.FindStringSubmatch(lines[i])
		if m == nil || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			continue
		}
		var body []string
		for i += 2; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		if _, dup := blocks[m[1]]; dup {
			t.Fatalf("README.md marks two blocks %s", m[1])
		}
		blocks[m[1]] = strings.Join(body, "\n") + "\n"
	}
	return blocks
}

var (
	readmeMarker = regexp.MustCompile(`^<!-- (\S+) -->$`)
	ansiEscape   = regexp.MustCompile("\x1b\\[[0-9;]*m")
	tf5RunLine   = regexp.MustCompile(`(?m)^tf5-test: RUN=(\S+)$`)
)

// TestTerraformInFiveMinutes runs README.md's "Terraform in five minutes" as written: its
// aws-config and main.tf blocks become files, its run, plan and apply commands run in one bash
// and the output holds each output block's lines: the read role's session while the run is
// PLANNING, the write role's once it is APPLYING. Only the embedded default's addresses, the
// admin key placeholder, the broker binary on PATH and terraform's offline provider mirror
// differ from what a reader does.
func TestTerraformInFiveMinutes(t *testing.T) {
	tf := lookTerraform(t)
	for _, tool := range []string{"bash", "curl", "jq"} {
		tooltest.Look(t, tool)
	}
	blocks := readmeBlocks(t)
	for _, name := range []string{"tf5:run", "tf5:aws-config", "tf5:main.tf", "tf5:plan", "tf5:plan-output", "tf5:apply", "tf5:apply-output"} {
		if blocks[name] == "" {
			t.Fatalf("README.md has no block marked <!-- %s -->", name)
		}
	}

	const admin = "brk_tf5-admin-secret"
	e := startEmbeddedDefault(t, admin)
	moved := strings.NewReplacer("127.0.0.1:8080", e.brokerAddr, "127.0.0.1:8081", e.emuAddr,
		"127.0.0.1:8082", e.tlsAddr, "=brk_...", "="+admin)
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"tf5:aws-config": "aws-config", "tf5:main.tf": "main.tf"} {
		if err := os.WriteFile(filepath.Join(work, file), []byte(moved.Replace(blocks[name])), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(blocks["tf5:run"], "=brk_...") || !strings.Contains(blocks["tf5:main.tf"], "127.0.0.1:8081") {
		t.Fatal("README.md's blocks no longer hold the admin key placeholder brk_... or the emulator's address")
	}

	const applyMark = "tf5-test: apply"
	script := "set -eu\n" + moved.Replace(blocks["tf5:run"]) + "echo \"tf5-test: RUN=$RUN\"\n" +
		moved.Replace(blocks["tf5:plan"]) + "echo '" + applyMark + "'\n" + moved.Replace(blocks["tf5:apply"])
	env := append(toolEnv(), offlineTerraformEnv(t, dir)...)
	env = append(env, "PATH="+filepath.Dir(brokerBin)+string(os.PathListSeparator)+filepath.Dir(tf)+
		string(os.PathListSeparator)+os.Getenv("PATH"), "HOME="+dir)
	out, err := runTool(t, toolDir{dir: work, env: env}, "bash", "-c", script)
	out = ansiEscape.ReplaceAllString(out, "")
	if err != nil {
		t.Fatalf("README commands: %v\n%s", err, out)
	}
	m := tf5RunLine.FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(m[1], "01") {
		t.Fatalf("tf5:run set no run id:\n%s", out)
	}
	planOut, applyOut, ok := strings.Cut(out, applyMark)
	if !ok {
		t.Fatalf("the apply commands did not run:\n%s", out)
	}
	for _, c := range []struct{ block, out, role string }{
		{"tf5:plan-output", planOut, "demo-read"}, {"tf5:apply-output", applyOut, "demo-write"},
	} {
		want := strings.ReplaceAll(blocks[c.block], "$RUN", m[1])
		if !strings.Contains(want, sessionARN("arn:aws:iam::000000000000:role/"+c.role, m[1])) {
			t.Errorf("README.md's %s does not show the %s role's session:\n%s", c.block, c.role, want)
		}
		for _, line := range strings.Split(strings.TrimSpace(want), "\n") {
			if !strings.Contains(c.out, line) {
				t.Errorf("%s: want %q in\n%s", c.block, line, c.out)
			}
		}
	}
}
