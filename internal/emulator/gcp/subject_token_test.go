package gcpemu

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// Google STS requires of an OIDC subject token a kid header, an iat claim, and an exp less than
// 48 hours after iat; the emulator refuses what STS refuses.

// kidlessIssuer is a minimal issuer whose tokens can leave out kid.
type kidlessIssuer struct {
	url string
	key *rsa.PrivateKey
}

func startKidlessIssuer(t *testing.T) *kidlessIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ri := &kidlessIssuer{key: key}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ri.url = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": ri.url, "jwks_uri": ri.url + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return ri
}

func TestSTSRefusesTokenWithoutKid(t *testing.T) {
	ri := startKidlessIssuer(t)
	emu := New(Config{Providers: []Provider{{Name: testProvider, Issuer: ri.url}}})
	srv := newServer(t, emu)
	c := claims("read")
	now := time.Now()
	c["iss"], c["iat"], c["exp"] = ri.url, now.Unix(), now.Add(10*time.Minute).Unix()
	tok := signWith(t, jose.SigningKey{Algorithm: jose.RS256, Key: ri.key}, c)
	resp, err := http.PostForm(srv.URL+"/v1/token", stsForm(tok))
	if err != nil {
		t.Fatal(err)
	}
	status, _ := decode(t, resp)
	if status == http.StatusOK {
		t.Errorf("STS emulator accepted a subject token with no kid header (Google requires kid): status %d", status)
	}
}

func TestSTSRefusesTokenWithoutIat(t *testing.T) {
	f := newFixture(t)
	c := claims("read")
	c["iat"] = nil // oidctest fills iat only when absent; null is how the verifier sees "no iat"
	status, _ := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: c})))
	if status == http.StatusOK {
		t.Errorf("STS emulator accepted a subject token with no iat (Google requires iat): status %d", status)
	}
}

func TestSTSRefusesTokenLivingOver48h(t *testing.T) {
	f := newFixture(t)
	status, _ := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read"), ExpiresIn: 72 * time.Hour})))
	if status == http.StatusOK {
		t.Errorf("STS emulator accepted a subject token whose exp is 72h after iat (Google: must be less than 48h): status %d", status)
	}
	if status, body := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read"), ExpiresIn: 47 * time.Hour}))); status != http.StatusOK {
		t.Errorf("STS emulator refused a subject token living 47h: %d %v", status, body)
	}
	// A lifetime too long for a time.Duration (about 317 years) is over 48h all the same.
	now := time.Now().Unix()
	c := claims("read")
	c["iat"], c["nbf"], c["exp"] = now, now, now+10_000_000_000
	if status, _ := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: c}))); status == http.StatusOK {
		t.Errorf("STS emulator accepted a subject token whose exp is 1e10 s after iat: status %d", status)
	}
}
