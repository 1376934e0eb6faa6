package loadgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/keys"
)

// testIssuer signs tokens as a server does, each with a jti of its own, with one key of its
// algorithm, and publishes that key in its JWKS.
type testIssuer struct {
	signer jose.Signer
	jwks   []byte
	n      atomic.Int64
}

// testIssuers holds one issuer per algorithm, made once per process: an RSA key takes a while.
var testIssuers = map[string]func() (*testIssuer, error){
	keys.RS256: sync.OnceValues(func() (*testIssuer, error) { return newTestIssuer(keys.RS256) }),
	keys.ES256: sync.OnceValues(func() (*testIssuer, error) { return newTestIssuer(keys.ES256) }),
}

// issuerOf returns the process's issuer of alg, failing t without one.
func issuerOf(t testing.TB, alg string) *testIssuer {
	t.Helper()
	iss, err := testIssuers[alg]()
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

// newTestIssuer makes an issuer of alg (RS256: RSA 2048, ES256: P-256) whose key's kid is
// "test-" followed by alg.
func newTestIssuer(alg string) (*testIssuer, error) { return newTestIssuerWithKid(alg, "test-"+alg) }

// newTestIssuerWithKid makes an issuer of alg whose key's kid is kid.
func newTestIssuerWithKid(alg, kid string) (*testIssuer, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case keys.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case keys.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("no test issuer for %s", alg)
	}
	if err != nil {
		return nil, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}}})
	if err != nil {
		return nil, err
	}
	return &testIssuer{signer: signer, jwks: jwks}, nil
}

// token signs a new token.
func (i *testIssuer) token() string {
	jti := strconv.FormatInt(i.n.Add(1), 10)
	jws, err := i.signer.Sign([]byte(`{"sub":"bench","aud":"sts.amazonaws.com","jti":"` + jti + `"}`))
	if err != nil {
		panic(err) // an in-memory key does not fail
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	return tok
}

// signingTarget is a fakeTarget issuing fresh tokens signed with iss's key, published in its
// JWKS, and naming algs in its discovery.
func signingTarget(iss *testIssuer, algs ...string) fakeTarget {
	return fakeTarget{issuer: iss, algs: algs}
}
