package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// RSABits is the modulus size of the RSA keys Generate creates.
const RSABits = 2048

// ErrUnsupportedAlg is returned for an algorithm other than RS256 or ES256, or for a key whose
// type does not match its algorithm.
var ErrUnsupportedAlg = errors.New("keys: unsupported algorithm")

// NormalizeAlg returns alg, or RS256 when alg is empty, and fails with ErrUnsupportedAlg for
// anything but RS256 and ES256.
func NormalizeAlg(alg string) (string, error) {
	switch alg {
	case "":
		return RS256, nil
	case RS256, ES256:
		return alg, nil
	default:
		return "", fmt.Errorf("%w: %q (want %s or %s)", ErrUnsupportedAlg, alg, RS256, ES256)
	}
}

// Generate creates a new signing key: RSA 2048 for RS256 (the default when alg is empty) or
// ECDSA P-256 for ES256. Its KID is the RFC 7638 JWK thumbprint of the public key (SHA-256,
// base64url without padding), so it is derived from the key alone, the same on every replica,
// and anyone can recompute it from the published JWK. Created is now; Activates is now too
// until a rotation decision sets it (see Apply).
func Generate(alg string, now time.Time) (Key, error) {
	alg, err := NormalizeAlg(alg)
	if err != nil {
		return Key{}, err
	}
	var signer crypto.Signer
	switch alg {
	case RS256:
		signer, err = rsa.GenerateKey(rand.Reader, RSABits)
	case ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return Key{}, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	kid, err := Thumbprint(signer.Public())
	if err != nil {
		return Key{}, err
	}
	return Key{
		Meta:   Meta{KID: kid, Alg: alg, Created: now, Activates: now},
		Signer: signer,
	}, nil
}

// GenerateLocal is Backend.Generate for the backends that keep private keys in process: it
// honours ctx and then calls Generate.
func GenerateLocal(ctx context.Context, alg string, now time.Time) (Key, error) {
	if err := ctx.Err(); err != nil {
		return Key{}, err
	}
	return Generate(alg, now)
}

// Public returns the public half of the key.
func (k Key) Public() crypto.PublicKey {
	if k.Signer == nil {
		return nil
	}
	return k.Signer.Public()
}

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of an
// RSA or P-256 ECDSA public key. It is the KID of every key this package generates.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	var canonical string
	switch p := pub.(type) {
	case *rsa.PublicKey:
		// Members in lexicographic order, no whitespace (RFC 7638 section 3.2).
		canonical = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`,
			b64(big.NewInt(int64(p.E)).Bytes()), b64(p.N.Bytes()))
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return "", fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedAlg, p.Curve.Params().Name)
		}
		raw, err := p.Bytes() // 0x04 || X || Y, each coordinate padded to 32 bytes
		if err != nil {
			return "", fmt.Errorf("keys: encode public key: %w", err)
		}
		canonical = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`,
			b64(raw[1:33]), b64(raw[33:65]))
	default:
		return "", fmt.Errorf("%w: public key type %T", ErrUnsupportedAlg, pub)
	}
	sum := sha256.Sum256([]byte(canonical))
	return b64(sum[:]), nil
}

// checkAlg verifies that signer's key type matches alg and that an RSA modulus is long enough.
func checkAlg(alg string, signer crypto.Signer) error {
	switch p := signer.Public().(type) {
	case *rsa.PublicKey:
		if alg != RS256 {
			return fmt.Errorf("%w: RSA key for %q", ErrUnsupportedAlg, alg)
		}
		// RS256 needs a modulus of at least 2048 bits; a key placed by hand may have less.
		if bits := p.N.BitLen(); bits < RSABits {
			return fmt.Errorf("%w: RSA key of %d bits, RS256 needs at least %d", ErrUnsupportedAlg, bits, RSABits)
		}
	case *ecdsa.PublicKey:
		if alg != ES256 {
			return fmt.Errorf("%w: ECDSA key for %q", ErrUnsupportedAlg, alg)
		}
	default:
		return fmt.Errorf("%w: public key type %T", ErrUnsupportedAlg, signer.Public())
	}
	return nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
