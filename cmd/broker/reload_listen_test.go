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

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestReloadUnderListenFlag: under `broker serve --config F --listen ADDR`, --listen overrides
// the re-read file's listen as it did the file at start-up. A SIGHUP with F unchanged reports no
// setting "not applied until a restart"; one after F was made invalid is refused (audited as
// denied) and serve keeps running: the override applies only to a file that loaded.
// Guards against: reload.go:50 `err == nil && h.Listen != ""` -> `h.Listen != ""` (nil
// configuration dereferenced: serve crashes)
func TestReloadUnderListenFlag(t *testing.T) {
	for _, tc := range []struct {
		name, stacks string // the stacks of F at the SIGHUP
		check        func(t *testing.T, event map[string]any)
	}{
		{"unchanged file", "{id: s1, space: prod}", func(t *testing.T, e map[string]any) {
			if detail, _ := e["detail"].(string); strings.Contains(detail, "not applied until a restart") {
				t.Errorf("a reload of an unchanged file reports: %s", detail)
			}
		}},
		{"invalid file", "{id: s1, space: prod}, {id: Bad_Id, space: nowhere}", func(t *testing.T, e map[string]any) {
			if e["outcome"] != "denied" {
				t.Errorf("the reload of an invalid file: %v", e)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fileAddr, addr := freeAddr(t), freeAddr(t)
			const secret = "listen-secret"
			sum := sha256.Sum256([]byte(secret))
			path := filepath.Join(dir, "broker.yaml")
			fill := strings.NewReplacer("ADDR", fileAddr, "KEYDIR", filepath.Join(dir, "keys"), "SHA", hex.EncodeToString(sum[:]))
			if err := os.WriteFile(path, []byte(fill.Replace(reloadStacks("{id: s1, space: prod}"))), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(brokerBin, "serve", "--config", path, "--listen", addr, "--log-format", "json")
			stderr := &syncbuf.Buffer{}
			cmd.Stderr = stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
			url := "http://" + addr
			waitReady(t, url)
			if err := os.WriteFile(path, []byte(fill.Replace(reloadStacks(tc.stacks))), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				select {
				case err := <-done:
					done <- err
					t.Fatalf("broker serve ended on the SIGHUP: %v\n%s", err, stderr.String())
				default:
				}
				if events := reloadEvents(t, url, secret); len(events) > 0 {
					tc.check(t, events[0])
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("no config.reload event:\n%s", stderr.String())
				}
			}
		})
	}
}
