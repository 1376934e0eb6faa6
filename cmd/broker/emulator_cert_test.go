package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var certLine = regexp.MustCompile(`start broker with SSL_CERT_FILE=(\S+) so it trusts`)

// runningEmulator is a broker emulator process started by runEmulatorUntilReady.
type runningEmulator struct {
	certPath string // the SSL_CERT_FILE it prints
	addr     string // its http address
	tlsAddr  string // its https (Entra) address
	stop     func() // interrupts it and waits for it to exit
}

// runEmulatorUntilReady starts broker emulator with env and args (its state directory in
// XDG_STATE_HOME=stateHome) and waits until it prints its certificate path.
func runEmulatorUntilReady(t *testing.T, stateHome string, env []string, args ...string) runningEmulator {
	t.Helper()
	em := runningEmulator{addr: freeAddr(t), tlsAddr: freeAddr(t)}
	p := startBroker(t, append([]string{"BROKER_CONFIG=", "XDG_STATE_HOME=" + stateHome}, env...),
		append([]string{"emulator", "--listen", em.addr, "--tls-listen", em.tlsAddr}, args...)...)
	cmd, logs, done := p.cmd, p.stderr, p.done
	stopped := false
	em.stop = func() {
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
	t.Cleanup(em.stop)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := certLine.FindStringSubmatch(logs.String()); m != nil {
			em.certPath = m[1]
			waitListening(t, em.tlsAddr, logs)
			return em
		}
		select {
		case <-done:
			t.Fatalf("emulator exited: %s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("emulator never printed its certificate path: %s", logs.String())
	return em
}

// servedCertificate returns the DER of the certificate served at addr.
func servedCertificate(t *testing.T, addr string) []byte {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) // only reads what is served
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Raw
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

// TestEmulatorKeepsItsCertificate requires the emulator to keep its certificate and key in a
// private state directory (0700, both files 0600) and to serve the same certificate after a
// restart, so a broker that trusts it (SSL_CERT_FILE) still reaches Entra; the directory
// defaults to $XDG_STATE_HOME/broker/emulator and --state-dir names another.
func TestEmulatorKeepsItsCertificate(t *testing.T) {
	home := t.TempDir()
	first := runEmulatorUntilReady(t, home, nil)
	dir := filepath.Join(home, "broker", "emulator")
	if first.certPath != filepath.Join(dir, "cert.pem") {
		t.Fatalf("certificate at %s, want %s", first.certPath, filepath.Join(dir, "cert.pem"))
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state directory %s: %v, %v; want mode 0700", dir, fi, err)
	}
	for _, name := range []string{"cert.pem", "key.pem"} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want a regular file of mode 0600", name, fi, err)
		}
	}
	assertCertificate(t, first.certPath)
	served := servedCertificate(t, first.tlsAddr)
	first.stop()

	second := runEmulatorUntilReady(t, home, nil)
	if second.certPath != first.certPath {
		t.Errorf("restarted emulator names %s, want the same %s", second.certPath, first.certPath)
	}
	if !bytes.Equal(servedCertificate(t, second.tlsAddr), served) {
		t.Error("restarted emulator serves a new certificate: a broker trusting the old one cannot reach it")
	}

	other := filepath.Join(t.TempDir(), "state")
	third := runEmulatorUntilReady(t, home, nil, "--state-dir", other)
	if third.certPath != filepath.Join(other, "cert.pem") {
		t.Errorf("--state-dir %s: certificate at %s", other, third.certPath)
	}
	if bytes.Equal(servedCertificate(t, third.tlsAddr), served) {
		t.Error("another state directory serves the first one's certificate")
	}
}

// TestEmulatorRefusesAnOpenStateDirectory requires a state directory other users can enter to
// be refused: whoever can write there can swap the certificate a broker trusts.
func TestEmulatorRefusesAnOpenStateDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	r := broker(t, []string{"BROKER_CONFIG="}, "emulator", "--listen", freeAddr(t), "--tls-listen", freeAddr(t), "--state-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "open to other users") {
		t.Errorf("exit %d, stderr %q; want 1 and a refusal", r.code, r.stderr)
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
	got := runEmulatorUntilReady(t, t.TempDir(), nil, "--cert-file", path)
	if got.certPath != path {
		t.Errorf("printed %s, want %s", got.certPath, path)
	}
	assertCertificate(t, path)
	if data, err := os.ReadFile(victim); err != nil || string(data) != "keep me" {
		t.Errorf("the link's target was written: %q, %v", data, err)
	}
}
