package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadAfterAliasBomb: an operator saves a 13 KB file whose YAML aliases repeat a list of
// 300 labels of the wrong type on 300 stacks, and sends SIGHUP: the file is refused (logged)
// at once, and the fixed file of the next SIGHUP is in force, although SIGHUPs are handled one
// at a time. The bounds are generous: checking each of the file's problems against each of its
// bad paths takes minutes.
func TestReloadAfterAliasBomb(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	const secret = "reload-secret"
	sum := sha256.Sum256([]byte(secret))
	path := filepath.Join(dir, "broker.yaml")
	write := func(text string) {
		t.Helper()
		text = strings.NewReplacer("ADDR", addr, "KEYDIR", filepath.Join(dir, "keys"), "SHA", hex.EncodeToString(sum[:])).Replace(text)
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	valid := func(stacks string) string { return strings.Replace(reloadFile, "STACKS", stacks, 1) }
	write(valid("{id: s1, space: prod}"))
	cmd := exec.Command(brokerBin, "serve", "--config", path, "--log-format", "json")
	stderr := newSyncBuffer()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	d := &daemon{url: "http://" + addr}
	waitReady(t, d.url)

	labels := strings.TrimSuffix(strings.Repeat("{},", 300), ",")
	bomb := strings.Replace(reloadFile, "spaces: [{id: root}, {id: prod, parent: root}]",
		"spaces: [{id: root}, {id: prod, parent: root, labels: &l ["+labels+"]}]", 1)
	var stacks []string
	for i := range 300 {
		stacks = append(stacks, "{id: s"+strings.Repeat("x", i%7)+", space: prod, labels: *l}")
	}
	write(strings.Replace(bomb, "STACKS", strings.Join(stacks, ", "), 1))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); !strings.Contains(stderr.String(), "config reload refused"); time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the aliased file's refusal is not logged 30 s after its SIGHUP")
		}
	}

	write(valid("{id: s1, space: prod}, {id: s2, space: prod}"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	newRun := func(stack string) int {
		return d.post(t, request{path: "/v1/runs", bearer: secret, body: `{"stack":"` + stack + `","runType":"TRACKED"}`})
	}
	for start := time.Now(); newRun("s2") != 201; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the fixed file's stack s2 gets no run 30 s after its SIGHUP")
		}
	}
}
