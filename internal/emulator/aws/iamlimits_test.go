package awsemu

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/go-jose/go-jose/v4"
)

// portIssuer is an https issuer on a host name with an explicit port, the shape IAM
// cannot hold as an OIDC provider ("The URL should not contain a port number": the port
// would put a ':' into the provider's ARN).
const portIssuer = "https://broker.example.com:8443"

// tlsPortIssuer serves discovery and JWKS for portIssuer from a TLS test server and
// returns the key that signs its tokens and a client that reaches the server for any address.
func tlsPortIssuer(t *testing.T) (oidctest.SigningKey, *http.Client) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	discovery := "GET /.well-known/openid-configuration"
	mux.HandleFunc(discovery, func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": portIssuer, "jwks_uri": portIssuer + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test server
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	return oidctest.SigningKey{Key: key, KeyID: "k1", Alg: jose.RS256}, client
}

// TestIssuerWithPortIsNoIAMProvider: IAM holds no OIDC provider whose URL carries a port, so
// a token of an https issuer with a port on a host that is not loopback finds no provider, and
// `broker emulator` does not pass a setup that AWS refuses.
func TestIssuerWithPortIsNoIAMProvider(t *testing.T) {
	key, client := tlsPortIssuer(t)
	emu := New(Config{
		Roles: []Role{{ARN: readRole, Trust: Trust{Issuer: portIssuer,
			Audiences: []string{"sts.amazonaws.com"}, Subject: readSubject}}},
		Verifier: &oidctrust.Verifier{HTTP: client},
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	f := &fixture{emu: emu, srv: srv}
	now := time.Now()
	token := oidctest.SignCompact(t, key, map[string]any{
		"iss": portIssuer, "sub": readSubject, "aud": "sts.amazonaws.com",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	status, body := f.post(t, webIdentity(token))
	expectAnswer(t, status, body, http.StatusBadRequest, "InvalidIdentityToken",
		"No OpenIDConnect provider found")
}

// TestAudienceLongerThanAClientID: an IAM OIDC provider's client IDs are 1 to 255
// characters, so a 255-character audience matches and a 256-character one matches no client
// ID: STS answers "Incorrect token audience".
func TestAudienceLongerThanAClientID(t *testing.T) {
	longest := strings.Repeat("a", 255)
	over := strings.Repeat("a", 256)
	f := fixtureWith(t, []Role{{ARN: readRole, Trust: Trust{Issuer: freshIssuer,
		Audiences: []string{longest, over}, Subject: readSubject}}})
	if status, body := f.post(t, webIdentity(f.token(t, map[string]any{"aud": longest}))); status != http.StatusOK {
		t.Fatalf("255-character audience: status %d, want 200: %s", status, body)
	}
	status, body := f.post(t, webIdentity(f.token(t, map[string]any{"aud": over})))
	expectAnswer(t, status, body, http.StatusBadRequest, "InvalidIdentityToken",
		"Incorrect token audience")
}
