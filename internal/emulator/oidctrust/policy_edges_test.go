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

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// shapedDocs shapes what a shapedIssuer serves; nil fields serve good documents.
type shapedDocs struct {
	// discovery, when set, returns the discovery body for the server's URL.
	discovery func(base string) string
	// jwks, when set, is the JWKS body.
	jwks string
}

// shapedIssuer is an issuer whose tokens a test shapes byte for byte (header kid included).
type shapedIssuer struct {
	url string
	key *rsa.PrivateKey
}

// startShaped starts an issuer on loopback serving docs (good documents where docs leaves a
// field unset) with a fresh RSA key published as k1.
func startShaped(t *testing.T, docs shapedDocs) *shapedIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &shapedIssuer{key: key}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.url = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if docs.discovery != nil {
			_, _ = w.Write([]byte(docs.discovery(p.url)))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.url, "jwks_uri": p.url + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		if docs.jwks != "" {
			_, _ = w.Write([]byte(docs.jwks))
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return p
}

// sign signs claims exactly as given (no defaults) with RS256; kid "" puts no kid in the header.
func (p *shapedIssuer) sign(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	return oidctest.SignCompact(t, oidctest.SigningKey{Key: p.key, Alg: jose.RS256, KeyID: kid}, claims)
}

// claimsOf are good claims for iss, audience "a", valid for ten minutes, with edit applied
// (a nil value deletes the claim).
func claimsOf(iss string, edit map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": iss, "sub": "s", "aud": "a", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	for k, v := range edit {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// wantErr checks err against want (nil: accepted).
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

// TestRequireKIDAndIat pins the two Google STS requirements: under RequireKID a token
// whose header names no kid is malformed, and under RequireIat a token without iat is
// malformed; without those options both are taken.
// Guards against: RequireKID check dropped in oidctrust.go:Verify
// Guards against: RequireIat check dropped in oidctrust.go:checkTimes
func TestRequireKIDAndIat(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	base := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	google := base
	google.RequireKID, google.RequireIat = true, true
	for _, tc := range []struct {
		name   string
		kid    string
		edit   map[string]any
		policy oidctrust.Policy
		want   error
	}{
		{"no kid, kid not required", "", nil, base, nil},
		{"no kid, kid required", "", nil, google, oidctrust.ErrMalformed},
		{"kid, kid required", "k1", nil, google, nil},
		{"no iat, iat not required", "k1", map[string]any{"iat": nil}, base, nil},
		{"no iat, iat required", "k1", map[string]any{"iat": nil}, google, oidctrust.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), iss.sign(t, tc.kid, claimsOf(iss.url, tc.edit)), tc.policy)
			wantErr(t, err, tc.want)
		})
	}
}

// TestUnboundAudience pins UnboundAudience: it takes a token without aud (or with an
// empty list) only when the policy lists no audiences; a token carrying an aud is still refused,
// and a policy that lists audiences still requires one of them.
// Guards against: unbound ignoring the token's aud in oidctrust.go:Verify
// Guards against: unbound ignoring the policy's Audiences in oidctrust.go:Verify
func TestUnboundAudience(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	unbound := oidctrust.Policy{Issuer: iss.url, Algorithms: []string{"RS256"}, UnboundAudience: true}
	bound := unbound
	bound.Audiences = []string{"a"}
	for _, tc := range []struct {
		name   string
		edit   map[string]any
		policy oidctrust.Policy
		want   error
	}{
		{"no audiences, no aud", map[string]any{"aud": nil}, unbound, nil},
		{"no audiences, empty aud list", map[string]any{"aud": []string{}}, unbound, nil},
		{"no audiences, an aud", map[string]any{"aud": "x"}, unbound, oidctrust.ErrAudience},
		{"audiences, no aud", map[string]any{"aud": nil}, bound, oidctrust.ErrAudience},
		{"audiences, the aud", nil, bound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), iss.sign(t, "k1", claimsOf(iss.url, tc.edit)), tc.policy)
			wantErr(t, err, tc.want)
		})
	}
}

// TestIssuerURLShape pins that only an https issuer with a host, or plain http on a
// loopback host, is trusted: http on a host merely starting with "localhost", another scheme on
// loopback, and https without a host are all refused as ErrIssuer before any fetch, by Verify
// and by SignedBy alike.
// Guards against: "localhost" prefix taken as loopback in oidctrust.go:checkIssuerURL
// Guards against: scheme not checked for loopback hosts in oidctrust.go:checkIssuerURL
// Guards against: empty host not refused in oidctrust.go:checkIssuerURL
// Guards against: issuer URL check dropped in oidctrust.go:SignedBy
func TestIssuerURLShape(t *testing.T) {
	iss := oidctest.Start(t)
	v := &oidctrust.Verifier{HTTP: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("test transport: no network")
	})}}
	for _, u := range []string{"http://localhost.example.com", "ftp://127.0.0.1", "ws://localhost", "https:///tenant"} {
		t.Run(u, func(t *testing.T) {
			p := oidctrust.Policy{Issuer: u, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
			tok := iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a", "iss": u}})
			_, err := v.Verify(context.Background(), tok, p)
			wantErr(t, err, oidctrust.ErrIssuer)
			ok, err := v.SignedBy(context.Background(), tok, p)
			if ok || !errors.Is(err, oidctrust.ErrIssuer) {
				t.Fatalf("SignedBy = %v, %v; want false, ErrIssuer", ok, err)
			}
		})
	}
}

// TestDiscoveryDocuments pins that discovery and JWKS are used only when well formed: a
// discovery document naming no issuer, one answered with a 2xx status other than 200, one
// larger than 1 MiB, and a JWKS that is not JSON are all ErrDiscovery.
// Guards against: missing discovery issuer taken in oidctrust.go:fetchKeys
// Guards against: any non-error status taken in oidctrust.go:getJSON
// Guards against: document size cap dropped in oidctrust.go:getJSON
// Guards against: JSON decode error ignored in oidctrust.go:getJSON
func TestDiscoveryDocuments(t *testing.T) {
	v := &oidctrust.Verifier{}
	noIssuer := startShaped(t, shapedDocs{discovery: func(base string) string { return `{"jwks_uri":"` + base + `/jwks"}` }})
	huge := startShaped(t, shapedDocs{discovery: func(base string) string {
		return `{"issuer":"` + base + `","jwks_uri":"` + base + `/jwks","pad":"` + strings.Repeat("x", 1<<20) + `"}`
	}})
	badJWKS := startShaped(t, shapedDocs{jwks: "not json"})
	for _, tc := range []struct {
		name string
		iss  *shapedIssuer
	}{
		{"discovery without issuer", noIssuer},
		{"discovery over 1 MiB", huge},
		{"JWKS not JSON", badJWKS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := oidctrust.Policy{Issuer: tc.iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
			_, err := v.Verify(context.Background(), tc.iss.sign(t, "k1", claimsOf(tc.iss.url, nil)), p)
			wantErr(t, err, oidctrust.ErrDiscovery)
		})
	}
	t.Run("discovery answered 203", func(t *testing.T) {
		iss := oidctest.Start(t)
		iss.DiscoveryStatus = http.StatusNonAuthoritativeInfo
		p := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
		_, err := v.Verify(context.Background(), iss.Sign(t, oidctest.Token{Claims: map[string]any{"sub": "s", "aud": "a"}}), p)
		wantErr(t, err, oidctrust.ErrDiscovery)
	})
}

// TestClaimTypes pins how mistyped registered claims are reported: a NumericDate of the
// wrong type is reported even after an earlier mistyped string claim, and null stands for an
// absent claim (nbf, sub, jti null are taken).
// Guards against: NumericDate errors deferred like string ones in claimtypes.go:checkClaimTypes
// Guards against: null not taken as absent in claimtypes.go:fits
func TestClaimTypes(t *testing.T) {
	iss := startShaped(t, shapedDocs{})
	v := &oidctrust.Verifier{}
	p := oidctrust.Policy{Issuer: iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	// Keys are marshalled in order, so jti comes before nbf in the payload.
	_, err := v.Verify(context.Background(), iss.sign(t, "k1", claimsOf(iss.url, map[string]any{"jti": 5, "nbf": "soon"})), p)
	var mistyped *oidctrust.ClaimTypeError
	if !errors.As(err, &mistyped) || mistyped.Claim != "nbf" || mistyped.Got != "string" {
		t.Errorf("jti a number, then nbf a string: err = %v, want a ClaimTypeError for nbf", err)
	}
	claims := claimsOf(iss.url, nil)
	claims["sub"], claims["jti"], claims["nbf"] = nil, nil, nil
	if _, err := v.Verify(context.Background(), iss.sign(t, "k1", claims), p); err != nil {
		t.Errorf("sub, jti and nbf null: refused: %v", err)
	}
}
