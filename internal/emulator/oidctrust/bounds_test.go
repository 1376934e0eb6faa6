package oidctrust_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestTimeBoundaries: each time rule holds at its bound, one second past it, on a fixed
// clock: 5 minutes of skew and no more on exp, nbf and iat; none on exp under StrictExp; MaxAge
// and MaxLifetime (exp must be less than MaxLifetime after iat) to the second; and no Audiences
// without UnboundAudience takes no token, not even one without aud.
func TestTimeBoundaries(t *testing.T) {
	iss := oidctest.Start(t)
	now := time.Unix(1_700_000_000, 0)
	v := &oidctrust.Verifier{Now: func() time.Time { return now }}
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	base := oidctrust.Policy{Issuer: iss.URL, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
	with := func(edit func(*oidctrust.Policy)) oidctrust.Policy {
		p := base
		edit(&p)
		return p
	}
	strict := with(func(p *oidctrust.Policy) { p.StrictExp = true })
	maxAge := with(func(p *oidctrust.Policy) { p.MaxAge = 24 * time.Hour })
	lifetime := with(func(p *oidctrust.Policy) { p.RequireIat = true; p.MaxLifetime = 48 * time.Hour })
	noAudiences := with(func(p *oidctrust.Policy) { p.Audiences = nil })
	times := func(iat, nbf, exp int64) map[string]any {
		return map[string]any{"sub": "s", "aud": "a", "iat": iat, "nbf": nbf, "exp": exp}
	}
	hourAgo := at(-time.Hour)
	for _, tc := range []struct {
		name   string
		claims map[string]any
		policy oidctrust.Policy
		want   error // nil: accepted
	}{
		{"exp 300 s ago, within the skew", times(hourAgo, hourAgo, at(-300*time.Second)), base, nil},
		{"exp 301 s ago, past the skew", times(hourAgo, hourAgo, at(-301*time.Second)), base, oidctrust.ErrExpired},
		{"nbf 300 s ahead, within the skew", times(hourAgo, at(300*time.Second), at(time.Hour)), base, nil},
		{"nbf 301 s ahead, past the skew", times(hourAgo, at(301*time.Second), at(time.Hour)), base, oidctrust.ErrExpired},
		{"iat 300 s ahead, within the skew", times(at(300*time.Second), hourAgo, at(time.Hour)), base, nil},
		{"iat 301 s ahead, past the skew", times(at(301*time.Second), hourAgo, at(time.Hour)), base, oidctrust.ErrExpired},
		{"StrictExp: exp 1 s ahead", times(hourAgo, hourAgo, at(time.Second)), strict, nil},
		{"StrictExp: exp now", times(hourAgo, hourAgo, at(0)), strict, oidctrust.ErrExpired},
		{"MaxAge: issued exactly 24h ago", times(at(-24*time.Hour), hourAgo, at(time.Hour)), maxAge, nil},
		{"MaxAge: issued 24h and 1 s ago", times(at(-24*time.Hour-time.Second), hourAgo, at(time.Hour)), maxAge, oidctrust.ErrTooOld},
		{"MaxLifetime: exp 48h less 1 s after iat", times(at(-time.Minute), hourAgo, at(48*time.Hour-time.Minute-time.Second)), lifetime, nil},
		{"MaxLifetime: exp exactly 48h after iat", times(at(-time.Minute), hourAgo, at(48*time.Hour-time.Minute)), lifetime, oidctrust.ErrLifetime},
		{"no Audiences, token without aud", map[string]any{"sub": "s", "iat": hourAgo, "nbf": hourAgo, "exp": at(time.Hour)}, noAudiences, oidctrust.ErrAudience},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), iss.Sign(t, oidctest.Token{Claims: tc.claims}), tc.policy)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// fakeIssuer is an issuer whose discovery document can answer another status or name another
// issuer, publishing one RSA key under kid "k1".
type fakeIssuer struct {
	url       string
	key       *rsa.PrivateKey
	discovery int    // status of the discovery answer (0: 200)
	names     string // issuer the discovery document names ("": its own URL)
}

func startFakeIssuer(t *testing.T, discovery int, names string) *fakeIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pi := &fakeIssuer{key: key, discovery: discovery, names: names}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	pi.url = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		issuer := pi.names
		if issuer == "" {
			issuer = pi.url
		}
		w.Header().Set("Content-Type", "application/json")
		if pi.discovery != 0 {
			w.WriteHeader(pi.discovery)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "jwks_uri": pi.url + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return pi
}

// sign signs a good token for the issuer with its published key, naming kid in the header.
func (pi *fakeIssuer) sign(t *testing.T, kid string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: pi.key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{"iss": pi.url, "sub": "s", "aud": "a",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
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

// TestKeysAndDiscovery: the kid names the one key tried; a discovery document is used only
// from a 200 answer and only when it names the token's issuer, exactly as the token does.
func TestKeysAndDiscovery(t *testing.T) {
	v := &oidctrust.Verifier{}
	good := startFakeIssuer(t, 0, "")
	notFound := startFakeIssuer(t, http.StatusNotFound, "")
	impostor := startFakeIssuer(t, 0, "https://issuer.example")
	for _, tc := range []struct {
		name string
		iss  *fakeIssuer
		kid  string
		want error // nil: accepted
	}{
		{"kid of the published key", good, "k1", nil},
		{"kid naming no published key, signed by one", good, "k2", oidctrust.ErrSignature},
		{"discovery answers 404 with a good document", notFound, "k1", oidctrust.ErrDiscovery},
		{"discovery names another issuer", impostor, "k1", oidctrust.ErrDiscovery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := oidctrust.Policy{Issuer: tc.iss.url, Audiences: []string{"a"}, Algorithms: []string{"RS256"}}
			_, err := v.Verify(context.Background(), tc.iss.sign(t, tc.kid), policy)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
