package azureemu

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestTokenRequestRefusals: the token endpoint refuses, with Entra's code, a client secret
// sent beside a good assertion, an assertion without client_assertion_type, and a scope naming a
// second resource after the first; and a federated credential's issuer must equal the
// assertion's iss exactly, case included.
func TestTokenRequestRefusals(t *testing.T) {
	f := newFixture(t)
	// other trusts f's issuer under a spelling that differs only in the case of its scheme.
	other := &fixture{iss: f.iss, emu: New(Config{Host: "https://login.example.test", Apps: []App{{TenantID: tenantID, ClientID: clientID,
		Federated: []FederatedCredential{{Issuer: strings.Replace(f.iss.URL, "http://", "HTTP://", 1), Subject: subject}}}}})}
	edit := func(e func(url.Values)) func(t *testing.T) url.Values {
		return func(t *testing.T) url.Values {
			v := goodForm(f.assertion(t, oidctest.Token{}))
			e(v)
			return v
		}
	}
	cases := []struct {
		name     string
		fx       *fixture
		form     func(t *testing.T) url.Values
		status   int
		oauthErr string
		code     int
	}{
		{"client_secret beside a good assertion", f, edit(func(v url.Values) { v.Set("client_secret", "not-the-secret") }), 401, "invalid_client", 7000215},
		{"assertion without client_assertion_type", f, edit(func(v url.Values) { v.Del("client_assertion_type") }), 400, "invalid_request", 900144},
		{"a second resource scope", f, edit(func(v url.Values) { v.Set("scope", scope+" User.Read") }), 400, "invalid_scope", 700022},
		{"credential issuer differing in case", other, func(t *testing.T) url.Values { return goodForm(f.assertion(t, oidctest.Token{})) }, 401, "invalid_client", 700211},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, body := tc.fx.post(t, tenantID, tc.form(t))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %v", rec.Code, tc.status, body)
			}
			checkRefusal(t, body, wantRefusal{oauthErr: tc.oauthErr, code: tc.code})
		})
	}
}

// TestAssertionAlgorithm: an assertion signed RS384 by a key the issuer publishes is
// refused like ES256: federated credentials take RS256 alone.
func TestAssertionAlgorithm(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Use: "sig"}}})
	})
	emu := New(Config{Host: "https://login.example.test", Apps: []App{{TenantID: tenantID, ClientID: clientID,
		Federated: []FederatedCredential{{Issuer: srv.URL, Subject: subject}}}}})
	f := &fixture{emu: emu}
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256} {
		t.Run(string(alg), func(t *testing.T) {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			payload, _ := json.Marshal(map[string]any{"iss": srv.URL, "sub": subject, "aud": DefaultAudience,
				"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
			obj, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := obj.CompactSerialize()
			rec, body := f.post(t, tenantID, goodForm(tok))
			if alg == jose.RS256 {
				if rec.Code != 200 {
					t.Fatalf("RS256: status %d: %v", rec.Code, body)
				}
				return
			}
			if rec.Code != 401 {
				t.Fatalf("status %d, want 401: %v", rec.Code, body)
			}
			checkRefusal(t, body, wantRefusal{oauthErr: "invalid_client", code: 700027, inMessage: "RS256"})
		})
	}
}
