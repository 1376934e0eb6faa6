package keys_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// weakRSAKey is a 1024-bit RSA key, under RS256's minimum, and its kid.
func weakRSAKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := keys.Thumbprint(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return priv, kid
}

// TestFileLoadRefusesWeakRSAKey: a key directory whose PEM holds a 1024-bit RSA key (an
// operator-supplied key, or a planted one) must be refused: RFC 7518 section 3.3 says a key of
// 2048 bits or larger MUST be used with RS256, and broker itself only ever makes 2048-bit keys.
// Guards against: generate.go checkAlg taking any RSA key for RS256 (a 1024-bit key loaded,
// published in the JWKS and signing tokens).
func TestFileLoadRefusesWeakRSAKey(t *testing.T) {
	priv, kid := weakRSAKey(t)
	dir := filepath.Join(t.TempDir(), "keys")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, kid+".pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	meta, _ := json.Marshal(map[string]any{
		"format": 1, "generation": 1,
		"keys": []keys.Meta{{KID: kid, Alg: keys.RS256, Created: now, Activates: now}},
	})
	if err := os.WriteFile(filepath.Join(dir, "keyset-000000000001.json"), meta, 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := keys.NewFile(dir).Load(context.Background())
	if err == nil {
		t.Fatalf("File.Load accepted a %d-bit RSA key %s for RS256 (generation %d); want it refused (RFC 7518 3.3: at least 2048 bits)",
			priv.N.BitLen(), set.Keys[0].KID, set.Generation)
	}
	if !errors.Is(err, keys.ErrUnsupportedAlg) {
		t.Fatalf("File.Load of a 1024-bit RSA key: %v, want ErrUnsupportedAlg", err)
	}
}

// TestSaveRefusesWeakRSAKey: Set.Validate, which every backend's Save and Load run, refuses a
// 1024-bit RSA key for RS256.
// Guards against: generate.go checkAlg taking any RSA key for RS256.
func TestSaveRefusesWeakRSAKey(t *testing.T) {
	priv, kid := weakRSAKey(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set := keys.Set{Generation: 1, Keys: []keys.Key{{Meta: keys.Meta{KID: kid, Alg: keys.RS256, Created: now, Activates: now}, Signer: priv}}}
	err := set.Validate()
	if err == nil {
		t.Fatalf("Set.Validate accepted a %d-bit RSA key for RS256; want it refused", priv.N.BitLen())
	}
	if !errors.Is(err, keys.ErrUnsupportedAlg) {
		t.Fatalf("Set.Validate of a 1024-bit RSA key: %v, want ErrUnsupportedAlg", err)
	}
}
