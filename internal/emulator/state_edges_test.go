package emulator

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stateNow is the time these tests keep certificates at.
var stateNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// keptState returns a state directory holding a certificate made at stateNow, and that
// certificate's DER.
func keptState(t *testing.T) (StateDir, []byte) {
	t.Helper()
	s := StateDir{Dir: filepath.Join(t.TempDir(), "state")}
	cert, err := s.Certificate(stateNow)
	if err != nil {
		t.Fatal(err)
	}
	return s, cert.Certificate[0]
}

// TestDefaultStateDirNeedsAbsoluteHome pins that a relative HOME (with no usable
// XDG_STATE_HOME) is refused rather than placing the state directory relative to the working
// directory.
// Guards against: HOME checked for emptiness instead of absoluteness, state.go:DefaultStateDir
func TestDefaultStateDirNeedsAbsoluteHome(t *testing.T) {
	got, err := DefaultStateDir(func(k string) string { return map[string]string{"HOME": "home/u"}[k] })
	if err == nil {
		t.Errorf("a relative HOME gave state directory %q", got)
	}
}

// TestStateDirRefusesUnsafeDirectories pins that the state directory is refused when it
// is a symbolic link (even to a private directory) or open to other users.
// Guards against: Lstat -> Stat on the directory, state.go:ensureDir
// Guards against: dropping the open-to-others check on the directory, state.go:ensureDir
func TestStateDirRefusesUnsafeDirectories(t *testing.T) {
	base := t.TempDir()
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{link, open} {
		if _, err := (StateDir{Dir: dir}).Certificate(stateNow); err == nil {
			t.Errorf("state directory %s was used", filepath.Base(dir))
		}
	}
}

// TestStateFilesMustBePrivateRegularFiles pins that a kept key or certificate that is a
// symbolic link, readable by the group, or not a regular file is refused with an error naming
// it, never used (and never read, so a FIFO cannot hang the emulator).
// Guards against: Lstat -> Stat on the kept files, state.go:load
// Guards against: mode mask 0o077 -> 0o007 (group-readable key accepted), state.go:load
// Guards against: checking the key file only, not the certificate, state.go:load
// Guards against: dropping the regular-file check, state.go:load
func TestStateFilesMustBePrivateRegularFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		file  string
		spoil func(t *testing.T, path string)
	}{
		{"the key a link to a private file", KeyFileName, func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "elsewhere.pem")
			data, _ := os.ReadFile(path)
			if err := os.WriteFile(target, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_ = os.Remove(path)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"the key readable by the group", KeyFileName, func(t *testing.T, path string) { _ = os.Chmod(path, 0o640) }},
		{"the certificate readable by others", CertFileName, func(t *testing.T, path string) { _ = os.Chmod(path, 0o644) }},
		{"the certificate a FIFO", CertFileName, func(t *testing.T, path string) {
			_ = os.Remove(path)
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := keptState(t)
			tc.spoil(t, filepath.Join(s.Dir, tc.file))
			done := make(chan error, 1)
			go func() { _, err := s.Certificate(stateNow); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.file) {
					t.Errorf("Certificate = %v, want an error naming %s", err, tc.file)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("Certificate hung reading %s", tc.file)
			}
		})
	}
}

// TestStateRenewsUnusableCertificates pins that a kept certificate that does not parse,
// or is not yet valid (the clock went back past its start), is replaced by a new one rather
// than refused or served.
// Guards against: an unparseable pair returned as an error instead of renewed, state.go:load
// Guards against: dropping the not-yet-valid check, state.go:load
// Guards against: NotBefore a year back, tls.go:SelfSigned
func TestStateRenewsUnusableCertificates(t *testing.T) {
	s, first := keptState(t)
	if err := os.WriteFile(s.CertPath(), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	renewed, err := s.Certificate(stateNow)
	if err != nil {
		t.Fatalf("a certificate that does not parse: %v", err)
	}
	if bytes.Equal(renewed.Certificate[0], first) {
		t.Error("a certificate that does not parse was not replaced")
	}
	s, first = keptState(t)
	earlier, err := s.Certificate(stateNow.Add(-2 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(earlier.Certificate[0], first) {
		t.Error("a certificate not valid yet was kept")
	}
	if leaf, err := x509.ParseCertificate(earlier.Certificate[0]); err != nil || leaf.NotBefore.After(stateNow.Add(-2*time.Hour)) {
		t.Errorf("the new certificate is not valid at the time asked: %v", err)
	}
}

// TestSelfSignedServesLoopbackOnly pins the emulator certificate's reach: trusted as the
// only root, it verifies for 127.0.0.1, ::1 and localhost as a TLS server, for no other name,
// not for client authentication, and for no more than a week.
// Guards against: dropping 127.0.0.1 from the names, tls.go:SelfSigned
// Guards against: an extra DNS name, tls.go:SelfSigned
// Guards against: ExtKeyUsageServerAuth -> ExtKeyUsageAny, tls.go:SelfSigned
func TestSelfSignedServesLoopbackOnly(t *testing.T) {
	leaf := selfSignedLeaf(t)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	verify := func(name string, usage x509.ExtKeyUsage) error {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: stateNow, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := verify(name, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"example.com", "www.example.com", "10.0.0.1", "sts.amazonaws.com"} {
		if verify(name, x509.ExtKeyUsageServerAuth) == nil {
			t.Errorf("the certificate verifies for %s", name)
		}
	}
	if verify("localhost", x509.ExtKeyUsageClientAuth) == nil {
		t.Error("the certificate verifies for client authentication")
	}
	if leaf.NotAfter.Sub(stateNow) > 7*24*time.Hour || stateNow.Sub(leaf.NotBefore) > time.Hour {
		t.Errorf("validity %v to %v around %v: more than an hour back or a week ahead", leaf.NotBefore, leaf.NotAfter, stateNow)
	}
}
