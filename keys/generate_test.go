package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		alg, wantAlg string
		check        func(t *testing.T, pub crypto.PublicKey)
	}{
		{"", keys.RS256, checkRSA},
		{keys.RS256, keys.RS256, checkRSA},
		{keys.ES256, keys.ES256, func(t *testing.T, pub crypto.PublicKey) {
			p, ok := pub.(*ecdsa.PublicKey)
			if !ok || p.Curve != elliptic.P256() {
				t.Fatalf("public key %T is not P-256", pub)
			}
		}},
	}
	for _, tt := range tests {
		t.Run("alg="+tt.alg, func(t *testing.T) {
			k, err := keys.Generate(tt.alg, t0)
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg != tt.wantAlg || !k.Created.Equal(t0) || !k.Activates.Equal(t0) || !k.Retires.IsZero() {
				t.Errorf("meta = %+v", k.Meta)
			}
			tt.check(t, k.Public())
			keystest.SignAndVerify(t, k.Alg, k.Signer, k.Public())
			// The KID is the RFC 7638 thumbprint, as go-jose computes it from the public JWK.
			tp, err := (&jose.JSONWebKey{Key: k.Public()}).Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if want := base64.RawURLEncoding.EncodeToString(tp); k.KID != want {
				t.Errorf("KID = %s, want thumbprint %s", k.KID, want)
			}
		})
	}
}

func checkRSA(t *testing.T, pub crypto.PublicKey) {
	t.Helper()
	p, ok := pub.(*rsa.PublicKey)
	if !ok || p.N.BitLen() != keys.RSABits {
		t.Fatalf("public key %T is not RSA %d", pub, keys.RSABits)
	}
}

func TestGenerateUnsupported(t *testing.T) {
	for _, alg := range []string{"HS256", "PS256", "es256", "none"} {
		if _, err := keys.Generate(alg, t0); !errors.Is(err, keys.ErrUnsupportedAlg) {
			t.Errorf("Generate(%q) = %v, want ErrUnsupportedAlg", alg, err)
		}
	}
}

func TestThumbprintUnsupported(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, pub := range []crypto.PublicKey{p384.Public(), edPub} {
		if _, err := keys.Thumbprint(pub); !errors.Is(err, keys.ErrUnsupportedAlg) {
			t.Errorf("Thumbprint(%T) = %v, want ErrUnsupportedAlg", pub, err)
		}
	}
}

func TestKeyPublicWithoutSigner(t *testing.T) {
	if pub := (keys.Key{}).Public(); pub != nil {
		t.Errorf("Public() of a key without signer = %v", pub)
	}
}
