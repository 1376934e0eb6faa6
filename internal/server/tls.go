package server

import (
	"crypto/tls"
	"fmt"
	"os"

	"github.com/brokerhq/broker/keys"
)

// loadTLSCertificate loads the serving certificate of tls.cert_file and tls.key_file. The key
// file is read under the rule of signing keys (keys.ReadPrivateFile): mode 0600 or stricter and
// owned by the user broker runs as, since whoever else can read it can impersonate broker to
// every client, and whoever can replace it can swap in their own.
func loadTLSCertificate(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
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
