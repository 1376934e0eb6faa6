package oidctrust_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
)

// signInput returns the RS256 signature by iss's key over input, base64url-encoded.
func signInput(t *testing.T, iss *shapedIssuer, input string) string {
	t.Helper()
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, iss.key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sig)
}

// claimsJSON returns good claims for iss, marshalled.
func claimsJSON(t *testing.T, iss *shapedIssuer) string {
	t.Helper()
	claims, err := json.Marshal(claimsOf(iss.url, nil))
	if err != nil {
		t.Fatal(err)
	}
	return string(claims)
}

// withHeader returns a compact JWT with the given protected header and good claims,
// signed by iss's key over the ordinary (base64url-encoded) JWS Signing Input.
func withHeader(t *testing.T, iss *shapedIssuer, header string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(claimsJSON(t, iss)))
	return input + "." + signInput(t, iss, input)
}

// TestHeaderCritAndB64 checks that a compact JWT whose protected header carries a crit
// parameter, or a b64 parameter other than the JSON literal true, is malformed, even when its
// signature covers the ordinary encoded payload and a JWS library would take it; a header
// with b64 true and no crit is taken.
// Guards against: compact.go:crit check dropped
// Guards against: compact.go:b64 compared with "false" instead of "not true"
func TestHeaderCritAndB64(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	for _, tc := range []struct {
		name, header string
		want         error
	}{
		{"b64 true, no crit", `{"alg":"RS256","kid":"k1","b64":true}`, nil},
		{"crit naming b64, b64 true", `{"alg":"RS256","kid":"k1","b64":true,"crit":["b64"]}`,
			oidctrust.ErrMalformed},
		{"b64 the string true", `{"alg":"RS256","kid":"k1","b64":"true"}`, oidctrust.ErrMalformed},
		{"b64 the number 1", `{"alg":"RS256","kid":"k1","b64":1}`, oidctrust.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), withHeader(t, iss, tc.header), p)
			wantErr(t, err, tc.want)
		})
	}
}

// TestUnencodedPayloadWithoutCrit checks that a compact JWT whose header sets b64 false
// without naming it critical, signed over its raw claims, is malformed: a JWT's signature
// covers the base64url-encoded payload.
// Guards against: compact.go:b64 check dropped
func TestUnencodedPayloadWithoutCrit(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	claims := claimsJSON(t, iss)
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","b64":false}`))
	sig := signInput(t, iss, header+"."+claims)
	tok := header + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "." + sig
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	_, err := v.Verify(context.Background(), tok, p)
	wantErr(t, err, oidctrust.ErrMalformed)
}
