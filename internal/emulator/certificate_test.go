package emulator

import (
	"crypto/x509"
	"testing"
	"time"
)

// TestSelfSignedKeyUsageAndSkew pins two properties of the emulator's certificate that
// TLS clients other than Go's check: its key usage allows digital signatures (an ECDSA server
// key signs the handshake, and OpenSSL-based clients refuse an ECDSA server certificate without
// digitalSignature), and it is valid from some minutes before the moment it is made, so a
// client whose clock lags the emulator's a little still accepts it.
// Guards against: KeyUsageDigitalSignature dropped, tls.go:SelfSigned
// Guards against: NotBefore: now.Add(-time.Hour) -> now, tls.go:SelfSigned
func TestSelfSignedKeyUsageAndSkew(t *testing.T) {
	leaf := selfSignedLeaf(t)
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		t.Errorf("key usage %b lacks digitalSignature", leaf.KeyUsage)
	}
	if lag := stateNow.Sub(leaf.NotBefore); lag < 5*time.Minute {
		t.Errorf("NotBefore %v is only %v before the certificate was made", leaf.NotBefore, lag)
	}
}

// selfSignedLeaf is the leaf certificate SelfSigned makes at stateNow.
func selfSignedLeaf(t *testing.T) *x509.Certificate {
	t.Helper()
	cert, _, err := SelfSigned(stateNow)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}
