package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var certLine = regexp.MustCompile(`start broker with SSL_CERT_FILE=(\S+) so it trusts`)

// runEmulatorUntilReady starts broker emulator with args and returns the certificate path it
// prints, and a function that interrupts it and waits for it to exit.
func runEmulatorUntilReady(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(brokerBin, append([]string{"emulator", "--listen", freeAddr(t), "--tls-listen", freeAddr(t)}, args...)...)
	cmd.Env = append(os.Environ(), "BROKER_CONFIG=")
	logs := newSyncBuffer()
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("emulator did not stop on interrupt: %s", logs.String())
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := certLine.FindStringSubmatch(logs.String()); m != nil {
			return m[1], stop
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("emulator never printed its certificate path: %s", logs.String())
	return "", nil
}

func assertCertificate(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o022 != 0 {
		t.Errorf("%s: mode %v, want a regular file writable by its owner only", path, fi.Mode())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM certificate: %q", path, data)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestEmulatorCertificateIsPrivate requires the certificate a broker is told to trust as its
// only root (SSL_CERT_FILE) to be written where no other user can plant or swap it: by default a
// fresh 0700 directory, not a fixed name in the shared temporary directory, removed on exit.
func TestEmulatorCertificateIsPrivate(t *testing.T) {
	path, stop := runEmulatorUntilReady(t)
	if shared := filepath.Join(os.TempDir(), "broker-emulator-cert.pem"); path == shared {
		t.Fatalf("certificate written to the fixed shared path %s", shared)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("certificate directory %s has mode %v, want 0700", dir, fi.Mode().Perm())
	}
	assertCertificate(t, path)
	stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("certificate directory %s still there after the emulator stopped: %v", dir, err)
	}
}

// TestEmulatorCertFileReplacesALink requires --cert-file to replace what stands at the path
// rather than write through a symbolic link planted there.
func TestEmulatorCertFileReplacesALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cert.pem")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	got, _ := runEmulatorUntilReady(t, "--cert-file", path)
	if got != path {
		t.Errorf("printed %s, want %s", got, path)
	}
	assertCertificate(t, path)
	if data, err := os.ReadFile(victim); err != nil || string(data) != "keep me" {
		t.Errorf("the link's target was written: %q, %v", data, err)
	}
}
