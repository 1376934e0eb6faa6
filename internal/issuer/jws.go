package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/brokerhq/broker/keys"
)

// jwsHeader is the protected header of every token, in the contract's field order.
type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// SignCompact signs payload with k as a compact JWS (RFC 7515) whose protected header is
// {"alg","kid","typ"} with the given typ: how broker signs what is not an ID token.
func SignCompact(k keys.Key, typ string, payload []byte) (string, error) {
	c, err := newTypedSigner("", k, typ)
	if err != nil {
		return "", err
	}
	return c.compact(context.Background(), payload)
}

// newCachedSigner prepares compact JWS signing (RFC 7515) of ID tokens with k: RS256 is
// RSASSA-PKCS1-v1_5 over SHA-256, ES256 is ECDSA P-256 over SHA-256 with the signature as
// fixed-size R||S. A signer that is a keys.ContextSigner (its key lives in a key service) is
// asked for the JWS form under the caller's context, so the call ends with the request.
func newCachedSigner(version string, k keys.Key) (*cachedSigner, error) {
	return newTypedSigner(version, k, "JWT")
}

// newTypedSigner is newCachedSigner with the header's typ.
func newTypedSigner(version string, k keys.Key, typ string) (*cachedSigner, error) {
	header, err := json.Marshal(jwsHeader{Alg: k.Alg, Kid: k.KID, Typ: typ})
	if err != nil {
		return nil, err
	}
	c := &cachedSigner{version: version, kid: k.KID, header: base64.RawURLEncoding.EncodeToString(header) + "."}
	cs, remote := k.Signer.(keys.ContextSigner)
	switch pub := k.Signer.Public().(type) {
	case *rsa.PublicKey:
		if k.Alg != keys.RS256 {
			return nil, fmt.Errorf("key %s: RSA key with alg %s", k.KID, k.Alg)
		}
		c.sign = func(_ context.Context, input []byte) ([]byte, error) {
			digest := sha256.Sum256(input)
			return k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		}
	case *ecdsa.PublicKey:
		if k.Alg != keys.ES256 || pub.Curve.Params().BitSize != 256 {
			return nil, fmt.Errorf("key %s: ECDSA key does not fit alg %s", k.KID, k.Alg)
		}
		c.sign = func(_ context.Context, input []byte) ([]byte, error) {
			digest := sha256.Sum256(input)
			der, err := k.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				return nil, err
			}
			return fixedRS(der, 32)
		}
	default:
		return nil, fmt.Errorf("key %s: unsupported key type %T", k.KID, pub)
	}
	if remote {
		c.sign = func(ctx context.Context, input []byte) ([]byte, error) {
			digest := sha256.Sum256(input)
			return cs.SignJWS(ctx, digest[:])
		}
	}
	return c, nil
}

// compact returns header.payload.signature for payload, signed under ctx.
func (c *cachedSigner) compact(ctx context.Context, payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	input := make([]byte, len(c.header), len(c.header)+enc.EncodedLen(len(payload)))
	copy(input, c.header)
	input = enc.AppendEncode(input, payload)
	sig, err := c.sign(ctx, input)
	if err != nil {
		return "", err
	}
	out := append(input, '.')
	return string(enc.AppendEncode(out, sig)), nil
}

// fixedRS turns an ASN.1 ECDSA signature into JWS's R||S, each left-padded to size bytes.
func fixedRS(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("ecdsa signature is not ASN.1: %v", err)
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}
