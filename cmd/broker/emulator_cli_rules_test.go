package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// emulatorInProcess runs broker emulator in this process under a context already cancelled:
// it sets up, listens, prints what it prints and returns at once. Its state directory lives
// under XDG_STATE_HOME=stateHome.
func emulatorInProcess(t *testing.T, stateHome string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	vars := map[string]string{"XDG_STATE_HOME": stateHome}
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code := run(ctx, e, append([]string{"emulator"}, args...))
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// TestEmulatorDemoNoteOnlyOnTheEmbeddedDefault: the note that the embedded default's demo
// integrations point at the default addresses is for the embedded default only; with a
// configuration file of one's own it is not printed, whatever the addresses.
// Guards against: emulator.go `cfg.Source == config.DefaultSource` negated
func TestEmulatorDemoNoteOnlyOnTheEmbeddedDefault(t *testing.T) {
	cfg := writeFile(t, "broker.yaml", "issuer: https://broker.example.com\n")
	for _, tc := range []struct {
		name     string
		config   []string
		wantNote bool
	}{
		{"embedded default", nil, true},
		{"configuration file", []string{"--config", cfg}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--listen", freeAddr(t), "--tls-listen", freeAddr(t)}, tc.config...)
			r := emulatorInProcess(t, t.TempDir(), args...)
			if r.code != 0 {
				t.Fatalf("emulator: %+v", r)
			}
			if got := strings.Contains(r.stderr, "demo integrations point at"); got != tc.wantNote {
				t.Errorf("demo note printed %v, want %v:\n%s", got, tc.wantNote, r.stderr)
			}
		})
	}
}

// TestEmulatorReleasesItsPlainListenerWhenTLSListenFails: when the --tls-listen address
// cannot be listened on, the emulator fails and the --listen address it had already taken is
// free again once it returns.
// Guards against: emulator.go plainLn.Close() dropped on the --tls-listen failure
func TestEmulatorReleasesItsPlainListenerWhenTLSListenFails(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	plain := freeAddr(t)
	r := emulatorInProcess(t, t.TempDir(), "--listen", plain, "--tls-listen", taken.Addr().String())
	if r.code != exitError || !strings.Contains(r.stderr, taken.Addr().String()) {
		t.Fatalf("emulator on a taken --tls-listen: %+v; want exit 1 naming it", r)
	}
	again, err := net.Listen("tcp", plain)
	if err != nil {
		t.Fatalf("the --listen address %s is still held after the emulator failed: %v", plain, err)
	}
	_ = again.Close()
}

// TestEmulatorRefusesTLSBelow12: the Entra emulator's https listener takes TLS 1.2 or
// later only; a client offering at most TLS 1.1 fails its handshake.
// Guards against: emulator.go MinVersion tls.VersionTLS12 -> tls.VersionTLS10
func TestEmulatorRefusesTLSBelow12(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	vars := map[string]string{"XDG_STATE_HOME": t.TempDir()}
	var out, errb syncbuf.Buffer
	tlsAddr := freeAddr(t)
	done := make(chan int, 1)
	go func() {
		e := env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		done <- run(ctx, e, []string{"emulator", "--listen", freeAddr(t), "--tls-listen", tlsAddr})
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errb.String(), "SSL_CERT_FILE=") {
		if time.Now().After(deadline) {
			t.Fatalf("emulator never printed its banner: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	dial := func(maxVersion uint16) error {
		conf := &tls.Config{
			InsecureSkipVerify: true, // only the protocol version is checked
			MinVersion:         tls.VersionTLS10,
			MaxVersion:         maxVersion,
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tlsAddr, conf)
		if err == nil {
			_ = conn.Close()
		}
		return err
	}
	if err := dial(tls.VersionTLS12); err != nil {
		t.Fatalf("a TLS 1.2 handshake failed: %v", err)
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if err := dial(v); err == nil {
			t.Errorf("a handshake of at most %s succeeded", tls.VersionName(v))
		}
	}
}

// TestWriteCertificateIsPublicAndLeavesNoTempFile: --cert-file's certificate is written
// readable by all (0644: it is public, and brokers run as other users read it), and a write
// that fails (here the path is a directory) leaves no temporary file behind.
// Guards against: emulator.go os.Chmod(f.Name(), 0o644) -> 0o600
// Guards against: emulator.go os.Remove of the temporary file on failure dropped
func TestWriteCertificateIsPublicAndLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cert.pem")
	got, err := writeCertificate(path, []byte("PEM"))
	if err != nil || got != path {
		t.Fatalf("writeCertificate = %q, %v", got, err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v, %v; want mode 0644", path, fi, err)
	}

	blocked := filepath.Join(dir, "blocked")
	if err := os.Mkdir(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocked, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := writeCertificate(blocked, []byte("PEM")); err == nil {
		t.Fatalf("writeCertificate over a non-empty directory = %q, nil; want an error", got)
	}
	left, err := filepath.Glob(filepath.Join(dir, ".broker-emulator-cert-*"))
	if err != nil || len(left) != 0 {
		t.Errorf("temporary files left behind: %v, %v", left, err)
	}
}

// TestEmulatorStateDirIsAbsoluteAndItsAbsenceIsUsage: a relative --state-dir is made
// absolute (the printed SSL_CERT_FILE must work from any directory), and with neither
// --state-dir nor an absolute XDG_STATE_HOME or HOME the command is a usage error.
// Guards against: emulator.go filepath.Abs(dir) skipped
// Guards against: emulator.go usagef -> fmt.Errorf for a missing default state directory
func TestEmulatorStateDirIsAbsoluteAndItsAbsenceIsUsage(t *testing.T) {
	state, err := emulatorState(env{getenv: func(string) string { return "" }}, "rel/state")
	if err != nil || !filepath.IsAbs(state.Dir) || !strings.HasSuffix(state.Dir, "rel/state") {
		t.Errorf("emulatorState of rel/state = %q, %v; want it absolute", state.Dir, err)
	}
	_, err = emulatorState(env{getenv: func(string) string { return "" }}, "")
	var u usageError
	if !errors.As(err, &u) {
		t.Errorf("emulatorState without any directory = %v; want a usage error", err)
	}
}
