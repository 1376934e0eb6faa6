package issuer

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/keys"
)

// TestCompactJWSVerifiesWithGoJose signs with broker's own JWS code and verifies with go-jose, for
// both algorithms and enough ES256 signatures that short R or S values (which must be
// left-padded) occur.
func TestCompactJWSVerifiesWithGoJose(t *testing.T) {
	for _, tc := range []struct {
		alg   string
		times int
	}{{keys.RS256, 20}, {keys.ES256, 1000}} {
		t.Run(tc.alg, func(t *testing.T) {
			k, err := keys.Generate(tc.alg, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			c, err := newCachedSigner("v1", k)
			if err != nil {
				t.Fatal(err)
			}
			wantHeader := `{"alg":"` + tc.alg + `","kid":"` + k.KID + `","typ":"JWT"}`
			for i := 0; i < tc.times; i++ {
				payload := []byte(`{"sub":"s","n":` + strings.Repeat("1", i%7+1) + `}`)
				tok, err := c.compact(context.Background(), payload)
				if err != nil {
					t.Fatal(err)
				}
				parts := strings.Split(tok, ".")
				if h, _ := base64.RawURLEncoding.DecodeString(parts[0]); string(h) != wantHeader {
					t.Fatalf("header %s, want %s", h, wantHeader)
				}
				jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
				if err != nil {
					t.Fatal(err)
				}
				got, err := jws.Verify(k.Signer.Public())
				if err != nil {
					t.Fatalf("signature %d does not verify: %v", i, err)
				}
				if string(got) != string(payload) {
					t.Fatalf("payload %s", got)
				}
			}
		})
	}
}

func TestSignerRefusesMismatchedAlg(t *testing.T) {
	k, err := keys.Generate(keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k.Alg = keys.RS256
	if _, err := newCachedSigner("v", k); err == nil {
		t.Error("an ECDSA key labelled RS256 was accepted")
	}
}

// TestSignCompactCarriesItsType signs a payload with a typ other than JWT, for both algorithms,
// and verifies it with go-jose.
func TestSignCompactCarriesItsType(t *testing.T) {
	for _, alg := range []string{keys.RS256, keys.ES256} {
		k, err := keys.Generate(alg, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tok, err := SignCompact(k, "example+jwt", []byte(`{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatal(err)
		}
		if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != "example+jwt" || jws.Signatures[0].Protected.KeyID != k.KID {
			t.Errorf("%s: header typ %v kid %s", alg, typ, jws.Signatures[0].Protected.KeyID)
		}
		if got, err := jws.Verify(k.Signer.Public()); err != nil || string(got) != `{"n":1}` {
			t.Errorf("%s: verify %q, %v", alg, got, err)
		}
	}
}
