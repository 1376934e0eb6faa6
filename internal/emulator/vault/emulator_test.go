package vaultemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// fixture is an emulator whose "jwt" mount trusts a test issuer with one role.
type fixture struct {
	iss   *oidctest.Issuer
	other *oidctest.Issuer
	srv   *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{iss: oidctest.Start(t), other: oidctest.Start(t)}
	emu := New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: f.iss.URL, Roles: []Role{{
		Name: "demo", BoundAudiences: []string{"vault"}, UserClaim: "sub",
		BoundClaims: map[string][]string{"callerId": {"demo-stack"}, "scope": {"read", "write"}},
		Policies:    []string{"demo"}, TTL: 30 * time.Minute,
	}, {
		Name: "no-aud", UserClaim: "sub",
	}}}}})
	f.srv = httptest.NewServer(emu)
	t.Cleanup(f.srv.Close)
	return f
}

// claims a run of demo-stack carries, overridden by extra (a nil value removes the claim).
func runClaims(extra map[string]any) map[string]any {
	c := map[string]any{"sub": "space:demo:stack:demo-stack:run_type:TRACKED:scope:read", "aud": "vault",
		"spaceId": "demo", "callerType": "stack", "callerId": "demo-stack", "scope": "read"}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func (f *fixture) login(t *testing.T, body map[string]any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(f.srv.URL+"/v1/auth/jwt/login", "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, raw)
	}
	return resp.StatusCode, out
}

func TestLoginRefusals(t *testing.T) {
	f := newFixture(t)
	sign := func(tok oidctest.Token) string { return f.iss.Sign(t, tok) }
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"wrong audience", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": "sts.amazonaws.com"})})},
			"error validating token: invalid audience (aud) claim: audience claim does not match any expected audience"},
		{"wrong stack", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"callerId": "other-stack"})})},
			`error validating claims: claim "callerId" does not match any associated bound claim values`},
		{"wrong scope", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"scope": "admin"})})},
			`error validating claims: claim "scope" does not match any associated bound claim values`},
		{"bound claim missing", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"scope": nil})})},
			`error validating claims: claim "scope" is missing`},
		{"bound claim of another type", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"callerId": 7})})},
			`error validating claims: claim "callerId" does not match any associated bound claim values`},
		{"user claim missing", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"sub": nil})})},
			`claim "sub" not found in token`},
		{"expired beyond the leeway", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(nil), ExpiresIn: -2 * time.Minute})},
			"error validating token: invalid expiration time (exp) claim: token is expired"},
		{"not yet valid", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"nbf": time.Now().Add(5 * time.Minute).Unix()})})},
			"error validating token: invalid not before (nbf) claim: token not yet valid"},
		{"issued in the future", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"iat": time.Now().Add(5 * time.Minute).Unix()})})},
			"error validating token: invalid issued at (iat) claim: token issued in the future"},
		{"bad signature", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(nil), Rogue: true})},
			"error validating token: error verifying token signature: failed to verify id token signature"},
		{"another issuer", map[string]any{"role": "demo", "jwt": f.other.Sign(t, oidctest.Token{Claims: runClaims(nil)})},
			"error validating token: error verifying token signature: failed to verify id token signature"},
		{"another iss, the issuer's key", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"iss": "https://elsewhere.example"})})},
			"error validating token: invalid issuer (iss) claim"},
		{"not a JWT", map[string]any{"role": "demo", "jwt": "not-a-jwt"},
			"error validating token: error verifying token signature: oidc: malformed jwt: go-jose/go-jose: compact JWS format must have three parts"},
		{"unknown role", map[string]any{"role": "x", "jwt": sign(oidctest.Token{Claims: runClaims(nil)})},
			`role "x" could not be found`},
		{"no role", map[string]any{"jwt": sign(oidctest.Token{Claims: runClaims(nil)})}, "missing role"},
		{"no token", map[string]any{"role": "demo"}, "missing token"},
		{"aud but no bound audiences", map[string]any{"role": "no-aud", "jwt": sign(oidctest.Token{Claims: runClaims(nil)})},
			"audience claim found in JWT but no audiences bound to the role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.login(t, tt.body)
			errs, _ := body["errors"].([]any)
			if status != http.StatusBadRequest || len(errs) != 1 || errs[0] != tt.want || body["auth"] != nil {
				t.Errorf("login = %d %v, want 400 {\"errors\":[%q]}", status, body, tt.want)
			}
		})
	}
}

// TestLoginTakesJSONSerialization: Vault's verifier parses a JWS in the JSON serialization as
// well as a compact one, so a good token in either JSON form logs in.
func TestLoginTakesJSONSerialization(t *testing.T) {
	f := newFixture(t)
	general, flattened := oidctest.JSONSerialized(t, f.iss.Sign(t, oidctest.Token{Claims: runClaims(nil)}))
	for _, jwt := range []string{general, flattened} {
		status, body := f.login(t, map[string]any{"role": "demo", "jwt": jwt})
		if status != http.StatusOK || body["auth"] == nil {
			t.Errorf("login with %s = %d %v, want 200 with auth", jwt, status, body)
		}
	}
}

func TestLoginWithinLeeway(t *testing.T) {
	f := newFixture(t)
	// Expired 30s ago: inside Vault's 60s clock-skew leeway, so still accepted.
	jwt := f.iss.Sign(t, oidctest.Token{Claims: runClaims(map[string]any{"scope": "write",
		"exp": time.Now().Add(-30 * time.Second).Unix()})})
	status, body := f.login(t, map[string]any{"role": "demo", "jwt": jwt})
	if status != http.StatusOK || body["auth"] == nil {
		t.Fatalf("login = %d %v", status, body)
	}
}

// TestRealClient logs in and looks the token up with Vault's own API client, which must
// decode both answers.
func TestRealClient(t *testing.T) {
	f := newFixture(t)
	client, err := vaultapi.NewClient(&vaultapi.Config{Address: f.srv.URL, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	client.ClearToken()
	jwt := f.iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})
	secret, err := client.Logical().Write("auth/jwt/login", map[string]any{"role": "demo", "jwt": jwt})
	if err != nil {
		t.Fatal(err)
	}
	auth := secret.Auth
	if auth == nil || !strings.HasPrefix(auth.ClientToken, "hvs.") || auth.Accessor == "" || auth.LeaseDuration != 1800 ||
		!auth.Renewable || !slices.Equal(auth.Policies, []string{"default", "demo"}) ||
		!slices.Equal(auth.TokenPolicies, []string{"default", "demo"}) || auth.Metadata["role"] != "demo" {
		t.Fatalf("login auth = %+v", auth)
	}
	client.SetToken(auth.ClientToken)
	self, err := client.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	if self.Data["accessor"] != auth.Accessor || self.Data["id"] != auth.ClientToken || self.Data["path"] != "auth/jwt/login" {
		t.Errorf("lookup-self data = %v", self.Data)
	}
	if ttl, err := self.TokenTTL(); err != nil || ttl <= 0 || ttl > 30*time.Minute {
		t.Errorf("lookup-self ttl = %v, %v", ttl, err)
	}

	// A token the emulator never issued is refused as Vault refuses it.
	client.SetToken("hvs.unknown")
	_, err = client.Auth().Token().LookupSelf()
	var re *vaultapi.ResponseError
	if !asResponseError(err, &re) || re.StatusCode != http.StatusForbidden || !slices.Equal(re.Errors, []string{deniedToken}) {
		t.Errorf("lookup-self with an unknown token: %v", err)
	}
	// So is a login at a mount that is not enabled: without a token, permission is denied.
	client.ClearToken()
	_, err = client.Logical().Write("auth/other/login", map[string]any{"role": "demo", "jwt": jwt})
	if !asResponseError(err, &re) || re.StatusCode != http.StatusForbidden || !slices.Equal(re.Errors, []string{"permission denied"}) {
		t.Errorf("login at an unknown mount: %v", err)
	}
}

func TestLookupSelfExpired(t *testing.T) {
	iss := oidctest.Start(t)
	var later atomic.Int64 // how far the emulator's clock runs ahead, in nanoseconds
	emu := New(Config{Now: func() time.Time { return time.Now().Add(time.Duration(later.Load())) }, Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL,
		Roles: []Role{{Name: "demo", BoundAudiences: []string{"vault"}, UserClaim: "sub", TTL: time.Minute}}}}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	data, _ := json.Marshal(map[string]any{"role": "demo", "jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
	resp, err := http.Post(srv.URL+"/v1/auth/jwt/login", "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	status, body := decode(t, resp)
	if status != http.StatusOK {
		t.Fatalf("login = %d %v", status, body)
	}
	token := body["auth"].(map[string]any)["client_token"].(string)
	lookup := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/auth/token/lookup-self", nil)
		req.Header.Set("X-Vault-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, _ := decode(t, resp)
		return status
	}
	if got := lookup(); got != http.StatusOK {
		t.Fatalf("lookup-self of a live token = %d", got)
	}
	later.Store(int64(time.Minute))
	if got := lookup(); got != http.StatusForbidden {
		t.Errorf("lookup-self of an expired token = %d, want 403", got)
	}
}

func asResponseError(err error, out **vaultapi.ResponseError) bool {
	return errors.As(err, out)
}
