package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/keys"
)

// remoteSigner stands for a key held by a key service: it signs only through SignJWS, under the
// caller's context, and records that context's value of ctxKey.
type remoteSigner struct {
	key  *ecdsa.PrivateKey
	seen any
}

type ctxKey struct{}

func (s *remoteSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s *remoteSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("crypto.Signer.Sign used: the request's context was lost")
}

func (s *remoteSigner) SignJWS(ctx context.Context, digest []byte) ([]byte, error) {
	s.seen = ctx.Value(ctxKey{})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, ss, err := ecdsa.Sign(rand.Reader, s.key, digest)
	if err != nil {
		return nil, err
	}
	return append(r.FillBytes(make([]byte, 32)), ss.FillBytes(make([]byte, 32))...), nil
}

// A signer that is a keys.ContextSigner signs under the caller's context: the JWS verifies, the
// context reached the signer, and a cancelled context fails the signature.
func TestContextSignerGetsTheContext(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s := &remoteSigner{key: priv}
	kid, _ := keys.Thumbprint(&priv.PublicKey)
	k := keys.Key{Meta: keys.Meta{KID: kid, Alg: keys.ES256, Created: time.Now(), Activates: time.Now()}, Signer: s}
	c, err := newCachedSigner("v", k)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	tok, err := c.compact(ctx, []byte(`{"n":1}`))
	if err != nil {
		t.Fatalf("compact: %v", err)
	}
	if s.seen != "request" {
		t.Fatalf("SignJWS saw context value %v, want the caller's", s.seen)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(&priv.PublicKey); err != nil {
		t.Fatalf("JWS does not verify: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.compact(cancelled, []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("compact with a cancelled context = %v, want context.Canceled", err)
	}
}
