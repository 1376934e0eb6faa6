package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/brokerhq/broker/internal/inputfile"
	"github.com/brokerhq/broker/keys"
)

// maxCertFileBytes bounds tls.cert_file: a certificate chain takes a few KiB.
const maxCertFileBytes = 1 << 20

// loadTLSCertificate loads the serving certificate of tls.cert_file and tls.key_file. The
// certificate file is a regular file of at most maxCertFileBytes (a FIFO would block this
// reload, every reload after it and serve's exit, which waits for them). The key
// file is read under the rule of signing keys (keys.ReadPrivateFile): mode 0600 or stricter and
// owned by the user broker runs as, since whoever else can read it can impersonate broker to
// every client, and whoever can replace it can swap in their own.
func loadTLSCertificate(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := inputfile.Read(certFile, maxCertFileBytes)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.cert_file: %w", err)
	}
	keyPEM, err := keys.ReadPrivateFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.key_file: %w", err)
	}
	defer clear(keyPEM)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls.cert_file %s and tls.key_file %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// servingCert is the certificate a replica presents in every new TLS handshake. It is swapped
// whole and atomically, so a handshake sees either the old or the new pair, and connections
// already established keep the session they negotiated.
type servingCert struct {
	certFile, keyFile string
	// now is the clock a certificate's validity is judged by.
	now func() time.Time
	cur atomic.Pointer[tls.Certificate]
}

// newServingCert loads the pair of certFile and keyFile (see loadTLSCertificate and reload).
func newServingCert(certFile, keyFile string, now func() time.Time) (*servingCert, error) {
	c := &servingCert{certFile: certFile, keyFile: keyFile, now: now}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload re-reads the pair under the rules of loadTLSCertificate, and refuses a certificate that
// has expired or is not yet valid (with keys.MaxClockSkew of tolerance): every client would
// refuse it, so presenting it would only trade a working certificate for an outage. A pair that
// fails is refused and the certificate in force stays.
func (c *servingCert) reload() error {
	cert, err := loadTLSCertificate(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	if cert.Leaf == nil {
		return errors.New("tls.cert_file: the certificate could not be parsed")
	}
	if err := checkValidity(cert.Leaf.NotBefore, cert.Leaf.NotAfter, c.now()); err != nil {
		return fmt.Errorf("tls.cert_file %s: %w", c.certFile, err)
	}
	c.cur.Store(&cert)
	return nil
}

// checkValidity says whether a certificate valid from notBefore to notAfter may be presented at
// now, allowing keys.MaxClockSkew between broker's clock and its issuer's or its clients'.
func checkValidity(notBefore, notAfter, now time.Time) error {
	switch {
	case now.After(notAfter.Add(keys.MaxClockSkew)):
		return fmt.Errorf("the certificate expired at %s", notAfter.UTC().Format(time.RFC3339))
	case now.Add(keys.MaxClockSkew).Before(notBefore):
		return fmt.Errorf("the certificate is not valid before %s", notBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// getCertificate is tls.Config.GetCertificate: the pair in force.
func (c *servingCert) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// tlsConfig is the server side of TLS: TLS 1.2 or later, presenting the pair in force.
func (c *servingCert) tlsConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.getCertificate, MinVersion: tls.VersionTLS12}
}
