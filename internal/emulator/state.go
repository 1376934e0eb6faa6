package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Names of the files StateDir keeps in its directory.
const (
	CertFileName = "cert.pem"
	KeyFileName  = "key.pem"
)

// renewBefore is how long before its expiry a kept certificate is replaced.
const renewBefore = 24 * time.Hour

// StateDir is the directory where the emulator keeps its TLS certificate and key across
// restarts, so a broker trusting the certificate (SSL_CERT_FILE) keeps trusting the emulator
// after it restarts. The directory is the user's alone (0700) and both files are 0600: the
// certificate is the only root such a broker trusts, so nobody else may plant or swap it.
type StateDir struct {
	Dir string
}

// DefaultStateDir is $XDG_STATE_HOME/broker/emulator, else ~/.local/state/broker/emulator.
func DefaultStateDir(getenv func(string) string) (string, error) {
	if base := getenv("XDG_STATE_HOME"); filepath.IsAbs(base) {
		return filepath.Join(base, "broker", "emulator"), nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("neither XDG_STATE_HOME nor HOME names an absolute directory: give --state-dir")
	}
	return filepath.Join(home, ".local", "state", "broker", "emulator"), nil
}

// CertPath is where the certificate is kept.
func (s StateDir) CertPath() string { return filepath.Join(s.Dir, CertFileName) }

// Certificate returns the kept certificate and key, or makes, keeps and returns new ones when
// there are none, they do not parse, or the certificate expires within a day of now.
func (s StateDir) Certificate(now time.Time) (tls.Certificate, error) {
	if err := s.ensureDir(); err != nil {
		return tls.Certificate{}, err
	}
	cert, err := s.load(now)
	if err == nil {
		return cert, nil
	}
	if !errors.Is(err, errRenew) {
		return tls.Certificate{}, err
	}
	cert, certPEM, err := SelfSigned(now)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("emulator key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	// The key first: a certificate without its key is never left behind as the pair.
	if err := s.replace(KeyFileName, keyPEM); err != nil {
		return tls.Certificate{}, err
	}
	if err := s.replace(CertFileName, certPEM); err != nil {
		return tls.Certificate{}, err
	}
	return cert, nil
}

// errRenew: there is no usable kept certificate, so a new one is made.
var errRenew = errors.New("no usable kept certificate")

// ensureDir creates the directory 0700, and refuses one that is a link, not a directory, or
// open to other users.
func (s StateDir) ensureDir() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("emulator state directory: %w", err)
	}
	fi, err := os.Lstat(s.Dir)
	if err != nil {
		return fmt.Errorf("emulator state directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("emulator state directory %s is not a directory", s.Dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("emulator state directory %s is open to other users (mode %v): chmod 700 it", s.Dir, fi.Mode().Perm())
	}
	return nil
}

// load reads the kept pair; errRenew when there is none or it is unusable.
func (s StateDir) load(now time.Time) (tls.Certificate, error) {
	for _, name := range []string{KeyFileName, CertFileName} {
		fi, err := os.Lstat(filepath.Join(s.Dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return tls.Certificate{}, errRenew
		}
		if err != nil {
			return tls.Certificate{}, err
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
			return tls.Certificate{}, fmt.Errorf("%s is not a regular file of mode 0600 (%v): remove it", filepath.Join(s.Dir, name), fi.Mode())
		}
	}
	cert, err := tls.LoadX509KeyPair(s.CertPath(), filepath.Join(s.Dir, KeyFileName))
	if err != nil {
		return tls.Certificate{}, errRenew
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil || now.Add(renewBefore).After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return tls.Certificate{}, errRenew
	}
	return cert, nil
}

// replace writes data as name (0600) through a rename from a fresh file beside it, never
// through a link that stands at name.
func (s StateDir) replace(name string, data []byte) error {
	f, err := os.CreateTemp(s.Dir, "."+name+"-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(s.Dir, name))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("keep %s: %w", name, err)
	}
	return nil
}
