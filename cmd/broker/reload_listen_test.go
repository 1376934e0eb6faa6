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

// TestReloadOfAnInvalidFileUnderListenFlag pins that under `broker serve --listen ADDR`, a SIGHUP
// after the file was made invalid is refused (audited as denied) and serve keeps running: the
// --listen override applies only to a file that loaded.
// Guards against: reload.go:50 `err == nil && h.Listen != ""` -> `h.Listen != ""` (nil
// configuration dereferenced: serve crashes)
func TestReloadOfAnInvalidFileUnderListenFlag(t *testing.T) {
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

	if err := os.WriteFile(path, []byte(fill.Replace(reloadStacks("{id: s1, space: prod}, {id: Bad_Id, space: nowhere}"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("broker serve ended on the SIGHUP of an invalid file: %v\n%s", err, stderr.String())
		default:
		}
		events := reloadEvents(t, url, secret)
		if len(events) > 0 {
			if events[0]["outcome"] != "denied" {
				t.Errorf("the reload of an invalid file: %v", events[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no config.reload event:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
