package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Issuer is a running test issuer.
type Issuer struct {
	// URL is the issuer (and discovery base) URL.
	URL string
	// DiscoveryStatus, when set, is the status the discovery document is answered with (its
	// body unchanged); set it before the first request.
	DiscoveryStatus int
	// DiscoveryIssuer, when set, is the issuer the discovery document names instead of URL;
	// set it before the first request.
	DiscoveryIssuer string

	mu        sync.Mutex
	published []jose.JSONWebKey
	rsaKey    *rsa.PrivateKey
	ecKey     *ecdsa.PrivateKey
	rogue     *rsa.PrivateKey // never published
}

// Start runs an issuer until the test ends.
func Start(t testing.TB) *Issuer {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{rsaKey: rsaKey, ecKey: ecKey, rogue: rogue}
	iss.published = []jose.JSONWebKey{
		{Key: rsaKey.Public(), KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		{Key: ecKey.Public(), KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		named := iss.URL
		if iss.DiscoveryIssuer != "" {
			named = iss.DiscoveryIssuer
		}
		w.Header().Set("Content-Type", "application/json")
		if iss.DiscoveryStatus != 0 {
			w.WriteHeader(iss.DiscoveryStatus)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": named, "jwks_uri": iss.URL + "/jwks",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.mu.Lock()
		defer iss.mu.Unlock()
		writeJSON(w, jose.JSONWebKeySet{Keys: iss.published})
	})
	return iss
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Token options.
type Token struct {
	// Claims are the payload; iss, iat, nbf and exp are filled in when absent (exp: +10m).
	Claims map[string]any
	// Alg is RS256 (default) or ES256.
	Alg string
	// Rogue signs with a key the JWKS does not hold.
	Rogue bool
	// ExpiresIn overrides the default 10m lifetime (negative: already expired).
	ExpiresIn time.Duration
	// KeyID, when set, is the kid the header names instead of the signing key's own.
	KeyID string
	// Omit names default claims (iss, iat, nbf, exp) left out instead of filled in.
	Omit []string
}

// Sign returns a compact JWT.
func (i *Issuer) Sign(t testing.TB, tok Token) string {
	t.Helper()
	claims := map[string]any{}
	for k, v := range tok.Claims {
		claims[k] = v
	}
	now := time.Now()
	if tok.ExpiresIn == 0 {
		tok.ExpiresIn = 10 * time.Minute
	}
	defaults := map[string]any{"iss": i.URL, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(tok.ExpiresIn).Unix()}
	if tok.ExpiresIn < 0 {
		defaults["iat"] = now.Add(tok.ExpiresIn - time.Hour).Unix()
		defaults["nbf"] = defaults["iat"]
	}
	for k, v := range defaults {
		if _, ok := claims[k]; !ok && !slices.Contains(tok.Omit, k) {
			claims[k] = v
		}
	}
	var key crypto.Signer = i.rsaKey
	kid, alg := "rsa-1", jose.RS256
	switch {
	case tok.Rogue:
		key = i.rogue
	case tok.Alg == "ES256":
		key, kid, alg = i.ecKey, "ec-1", jose.ES256
	}
	if tok.KeyID != "" {
		kid = tok.KeyID
	}
	return SignCompact(t, SigningKey{Key: key, KeyID: kid, Alg: alg}, claims)
}

// SigningKey is a key SignCompact signs with.
type SigningKey struct {
	// Key signs; Alg is its algorithm (jose.RS256 for an RSA key, jose.ES256 for P-256).
	Key crypto.Signer
	Alg jose.SignatureAlgorithm
	// KeyID is the header's kid; "" puts no kid in the header.
	KeyID string
}

// SignCompact signs claims exactly as given (no defaults) as a compact JWT of type JWT.
func SignCompact(t testing.TB, k SigningKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: jose.JSONWebKey{Key: k.Key, KeyID: k.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// JSONSerialized returns the compact JWS compact in the two forms of the JWS JSON
// serialization, general (a "signatures" array of one) and flattened: the same header, payload
// and signature, which a verifier that accepts only compact JWTs must refuse.
func JSONSerialized(t testing.TB, compact string) (general, flattened string) {
	t.Helper()
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	sig := map[string]string{"protected": parts[0], "signature": parts[2]}
	g, err := json.Marshal(map[string]any{"payload": parts[1], "signatures": []map[string]string{sig}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := json.Marshal(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})
	if err != nil {
		t.Fatal(err)
	}
	return string(g), string(f)
}
