package oidctrust_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/go-jose/go-jose/v4"
)

// TestSignedByDiscoveryFailure checks that SignedBy reports an issuer whose discovery
// document cannot be fetched as ErrDiscovery, not as a token it merely did not sign.
// Guards against: oidctrust.go:SignedBy swallowing the fetchKeys error
func TestSignedByDiscoveryFailure(t *testing.T) {
	iss := oidctest.Start(t)
	iss.DiscoveryStatus = http.StatusNotFound
	tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a"}})
	p := oidctrust.Policy{Issuer: iss.URL, Algorithms: []string{"RS256"}}
	ok, err := (&oidctrust.Verifier{}).SignedBy(context.Background(), tok, p)
	if ok {
		t.Fatal("SignedBy = true with no discovery document")
	}
	wantErr(t, err, oidctrust.ErrDiscovery)
}

// TestRequireKIDAlone checks that RequireKID refuses a token without kid on its own,
// without RequireIat.
// Guards against: oidctrust.go:RequireKID checked only together with RequireIat
func TestRequireKIDAlone(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"},
		RequireKID: true}
	tok := iss.sign(t, "", claimsOf(iss.url, nil))
	_, err := (&oidctrust.Verifier{}).Verify(context.Background(), tok, p)
	wantErr(t, err, oidctrust.ErrMalformed)
}

// TestLifetimeBeyondInt64 checks that MaxLifetime refuses a token whose exp lies more
// seconds after its iat than an int64 holds.
// Guards against: oidctrust.go:lifetime compared after int64 conversion
func TestLifetimeBeyondInt64(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"},
		RequireIat: true, MaxLifetime: 48 * time.Hour}
	claims := claimsOf(iss.url, map[string]any{"exp": 1e19})
	_, err := (&oidctrust.Verifier{}).Verify(context.Background(), iss.sign(t, "k1", claims), p)
	wantErr(t, err, oidctrust.ErrLifetime)
}

// TestIssuerWithTrailingSlash checks that an issuer ending in a slash is discovered at
// the issuer with that slash removed, followed by /.well-known/openid-configuration, on a
// server that answers only that exact path.
// Guards against: oidctrust.go:fetchKeys not trimming the issuer's trailing slash
func TestIssuerWithTrailingSlash(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &shapedIssuer{key: key}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.RequestURI {
		case "/.well-known/openid-configuration":
			doc := map[string]string{"issuer": iss.url, "jwks_uri": iss.url + "jwks"}
			_ = json.NewEncoder(w).Encode(doc)
		case "/jwks":
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
				{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	iss.url = srv.URL + "/"
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	tok := iss.sign(t, "k1", claimsOf(iss.url, nil))
	_, err = (&oidctrust.Verifier{}).Verify(context.Background(), tok, p)
	wantErr(t, err, nil)
}

// TestTooManySignaturesNotAlgorithm checks that a JWS in the general JSON serialization
// carrying more signatures than the parser takes is malformed, not an algorithm failure.
// Guards against: oidctrust.go:any parser error naming "signature" classed as ErrAlgorithm
func TestTooManySignaturesNotAlgorithm(t *testing.T) {
	iss := oidctest.Start(t)
	good := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a"}})
	parts := strings.Split(good, ".")
	sigs := make([]map[string]string, 64)
	for i := range sigs {
		sigs[i] = map[string]string{"protected": parts[0], "signature": parts[2]}
	}
	general, err := json.Marshal(map[string]any{"payload": parts[1], "signatures": sigs})
	if err != nil {
		t.Fatal(err)
	}
	p := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"},
		JSONSerialization: true}
	_, err = (&oidctrust.Verifier{}).Verify(context.Background(), string(general), p)
	wantErr(t, err, oidctrust.ErrMalformed)
}

// keyedIssuer starts an issuer on loopback whose JWKS publishes an unrelated key, k0,
// before the key it signs with, k1.
func keyedIssuer(t *testing.T) *shapedIssuer {
	t.Helper()
	signing, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &shapedIssuer{key: signing}
	mux := http.NewServeMux()
	discovery := "GET /.well-known/openid-configuration"
	mux.HandleFunc(discovery, func(w http.ResponseWriter, _ *http.Request) {
		doc := map[string]string{"issuer": iss.url, "jwks_uri": iss.url + "/jwks"}
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: other.Public(), KeyID: "k0", Algorithm: "RS256", Use: "sig"},
			{Key: signing.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.url = srv.URL
	return iss
}

// TestNoKIDTriesEveryKey checks that a token whose header names no kid is verified by
// any published key, not only the first in the JWKS.
// Guards against: oidctrust.go:signedBy trying only the first candidate key
func TestNoKIDTriesEveryKey(t *testing.T) {
	iss := keyedIssuer(t)
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	tok := iss.sign(t, "", claimsOf(iss.url, nil))
	_, err := (&oidctrust.Verifier{}).Verify(context.Background(), tok, p)
	wantErr(t, err, nil)
}

// TestStrictExpKeepsNbf checks that StrictExp, which drops the skew on exp, still
// refuses a token not valid before a time past the skew.
// Guards against: oidctrust.go:nbf not checked under StrictExp
func TestStrictExpKeepsNbf(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"},
		StrictExp: true}
	nbf := time.Now().Add(time.Hour).Unix()
	tok := iss.sign(t, "k1", claimsOf(iss.url, map[string]any{"nbf": nbf}))
	_, err := (&oidctrust.Verifier{}).Verify(context.Background(), tok, p)
	wantErr(t, err, oidctrust.ErrExpired)
}

// TestPayloadNotObject checks that a signed payload that is JSON but not an object is
// malformed, not an untrusted issuer.
// Guards against: oidctrust.go:payload decoding error ignored in Verify
func TestPayloadNotObject(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	_, err := (&oidctrust.Verifier{}).Verify(context.Background(), signRaw(t, iss, `["a"]`), p)
	wantErr(t, err, oidctrust.ErrMalformed)
}

// TestDiscoveryIssuerTrailingSlash checks that a discovery document naming the issuer
// with a trailing slash the token's iss lacks is a discovery failure: the names must match
// exactly.
// Guards against: oidctrust.go:discovery issuer compared ignoring a trailing slash
func TestDiscoveryIssuerTrailingSlash(t *testing.T) {
	iss := startShaped(t, shapedDocs{discovery: func(base string) string {
		return `{"issuer":"` + base + `/","jwks_uri":"` + base + `/jwks"}`
	}})
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	tok := iss.sign(t, "k1", claimsOf(iss.url, nil))
	_, err := (&oidctrust.Verifier{}).Verify(context.Background(), tok, p)
	wantErr(t, err, oidctrust.ErrDiscovery)
}

// TestHTTPHostEndingInLocalhost checks that plain http is refused on a host that merely
// ends in "localhost" without being it.
// Guards against: oidctrust.go:checkIssuerURL taking any host ending in "localhost"
func TestHTTPHostEndingInLocalhost(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{HTTP: &http.Client{Transport: roundTripFunc(
		func(*http.Request) (*http.Response, error) { return nil, errors.New("no network") })}}
	const u = "http://evillocalhost"
	tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a", "iss": u}})
	p := oidctrust.Policy{Issuer: u, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	_, err := v.Verify(context.Background(), tok, p)
	wantErr(t, err, oidctrust.ErrIssuer)
}
