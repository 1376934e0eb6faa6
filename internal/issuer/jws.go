package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

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
	n := len(c.header) + enc.EncodedLen(len(payload))
	sigB64 := c.sigB64
	if sigB64 == 0 {
		sigB64 = maxSignatureB64
	}
	bp := jwsBufs.Get().(*[]byte)
	defer putJWSBuf(bp)
	input := slices.Grow((*bp)[:0], n+1+sigB64) // room for the signature
	input = append(input, c.header...)
	input = enc.AppendEncode(input, payload)
	sig, err := c.sign(ctx, input) // signers hash input and keep none of it
	if err != nil {
		return "", err
	}
	out := enc.AppendEncode(append(input, '.'), sig)
	*bp = out
	return string(out), nil
}

// jwsBufs recycles the buffers compact JWS are assembled in before their one copy to a string.
var jwsBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2<<10); return &b }}

// maxPooledJWS is the largest buffer put back in jwsBufs.
const maxPooledJWS = 8 << 10

func putJWSBuf(bp *[]byte) {
	if cap(*bp) > maxPooledJWS {
		return
	}
	jwsBufs.Put(bp)
}

// maxSignatureB64 is the base64url length of the largest signature broker makes (RSA 4096).
const maxSignatureB64 = 683

// fixedRS turns an ASN.1 ECDSA signature, SEQUENCE { INTEGER r, INTEGER s } in DER, into JWS's
// R||S, each left-padded to size bytes.
func fixedRS(der []byte, size int) ([]byte, error) {
	body, rest, ok := derElement(der, 0x30)
	if !ok || len(rest) != 0 {
		return nil, errors.New("ecdsa signature is not an ASN.1 sequence")
	}
	r, body, okR := derElement(body, 0x02)
	s, body, okS := derElement(body, 0x02)
	if !okR || !okS || len(body) != 0 {
		return nil, errors.New("ecdsa signature is not two ASN.1 integers")
	}
	out := make([]byte, 2*size)
	if !fillUnsigned(out[:size], r) || !fillUnsigned(out[size:], s) {
		return nil, fmt.Errorf("ecdsa signature does not fit %d-byte integers", size)
	}
	return out, nil
}

// derElement splits the DER element of the given tag (with a short or long length of up to two
// bytes) at the start of b into its contents and what follows.
func derElement(b []byte, tag byte) (contents, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, b := int(b[1]), b[2:]
	switch {
	case n < 0x80:
	case n == 0x81 && len(b) >= 1 && b[0] >= 0x80:
		n, b = int(b[0]), b[1:]
	case n == 0x82 && len(b) >= 2 && b[0] != 0:
		n, b = int(b[0])<<8|int(b[1]), b[2:]
	default:
		return nil, nil, false
	}
	if n > len(b) {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}

// fillUnsigned writes the positive DER integer v into dst, left-padded with zeros.
func fillUnsigned(dst, v []byte) bool {
	if len(v) == 0 || v[0]&0x80 != 0 { // empty or negative
		return false
	}
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > len(dst) {
		return false
	}
	copy(dst[len(dst)-len(v):], v)
	return true
}
