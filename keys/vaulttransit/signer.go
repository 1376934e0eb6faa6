package vaulttransit

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/keys"
)

// signer is a crypto.Signer (and keys.ContextSigner) whose private key is one Transit key
// version: it holds the public key and asks Vault for every signature.
type signer struct {
	b   *Backend
	ref ref
	alg string
	pub crypto.PublicKey
}

var (
	_ crypto.Signer      = (*signer)(nil)
	_ keys.ContextSigner = (*signer)(nil)
)

func (b *Backend) signer(r ref, alg string, pub crypto.PublicKey) *signer {
	return &signer{b: b, ref: r, alg: alg, pub: pub}
}

// Public implements crypto.Signer.
func (s *signer) Public() crypto.PublicKey { return s.pub }

// Sign implements crypto.Signer for a SHA-256 digest: PKCS #1 v1.5 for RSA, ASN.1 for ECDSA. It
// is bounded by the backend's timeout only; prefer SignJWS with the caller's context.
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil || opts.HashFunc() != crypto.SHA256 {
		return nil, fmt.Errorf("vaulttransit: only SHA-256 digests are signed")
	}
	return s.sign(context.Background(), digest, "asn1")
}

// SignJWS implements keys.ContextSigner.
func (s *signer) SignJWS(ctx context.Context, digest []byte) ([]byte, error) {
	return s.sign(ctx, digest, "jws")
}

// sign asks Vault to sign digest with the signer's version; marshaling (asn1 or jws) applies to
// ECDSA signatures. It refuses (keys.ErrUnavailable and ErrExportable) while the Transit key's
// settings, read again every RecheckInterval, let its private halves leave Vault.
func (s *signer) sign(ctx context.Context, digest []byte, marshaling string) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("vaulttransit: digest of %d bytes, want a SHA-256 digest", len(digest))
	}
	if err := s.b.usable(ctx, s.ref.name); errors.Is(err, ErrExportable) {
		return nil, fmt.Errorf("%w: vault-transit: refused to sign with Transit key %s version %d: %w",
			keys.ErrUnavailable, s.ref.name, s.ref.version, err)
	} else if err != nil {
		return nil, err
	}
	body := map[string]any{
		"input":       base64.StdEncoding.EncodeToString(digest),
		"prehashed":   true,
		"key_version": s.ref.version,
	}
	if s.alg == keys.RS256 {
		body["signature_algorithm"] = "pkcs1v15"
	} else {
		body["marshaling_algorithm"] = marshaling
	}
	path := s.b.cfg.Mount + "/sign/" + s.ref.name + "/sha2-256"
	var sec *vaultapi.Secret
	err := s.b.call(ctx, fmt.Sprintf("sign with Transit key %s version %d", s.ref.name, s.ref.version), func(ctx context.Context) (err error) {
		sec, err = s.b.vc.Logical().WriteWithContext(ctx, path, body)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("%w: vault-transit: sign: Vault answered no signature", keys.ErrUnavailable)
	}
	text, _ := sec.Data["signature"].(string)
	enc := stdBase64
	if marshaling == "jws" && s.alg == keys.ES256 {
		enc = jwsOrStdBase64
	}
	sig, err := s.decode(text, enc)
	if err != nil {
		return nil, err
	}
	if !s.verifies(digest, sig, marshaling) {
		// The Transit key answering is not the one published under this version (deleted and
		// created again under its name): a token it signed would verify against nothing.
		// Forget the cached public keys, so that the next load checks the key's KID again.
		s.b.forget(s.ref.name)
		return nil, fmt.Errorf("%w: vault-transit: the signature of Transit key %s version %d does not verify with the public key "+
			"broker publishes for it (was the Transit key replaced?)", keys.ErrUnavailable, s.ref.name, s.ref.version)
	}
	return sig, nil
}

// verifies reports whether sig, as marshaling encodes it, is the signer's public key's
// signature of digest.
func (s *signer) verifies(digest, sig []byte, marshaling string) bool {
	switch pub := s.pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil
	case *ecdsa.PublicKey:
		if marshaling != "jws" {
			return ecdsa.VerifyASN1(pub, digest, sig)
		}
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r, ss := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, ss)
	}
	return false
}

// sigEncoding is how Transit encoded a signature's bytes.
type sigEncoding int

const (
	// stdBase64 is standard base64, Transit's default marshaling.
	stdBase64 sigEncoding = iota
	// jwsOrStdBase64 is base64url without padding, as JWS marshaling gives, else standard.
	jwsOrStdBase64
)

// decode parses Vault's "vault:v<version>:<base64>" signature encoded as enc, checking the
// version.
func (s *signer) decode(text string, enc sigEncoding) ([]byte, error) {
	want := "vault:v" + strconv.Itoa(s.ref.version) + ":"
	b64, ok := strings.CutPrefix(text, want)
	if !ok {
		return nil, fmt.Errorf("vaulttransit: Transit signature does not begin with %q", want)
	}
	if enc == jwsOrStdBase64 {
		if sig, err := base64.RawURLEncoding.DecodeString(b64); err == nil {
			return sig, nil
		}
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("vaulttransit: Transit signature is not base64: %w", err)
	}
	return sig, nil
}
