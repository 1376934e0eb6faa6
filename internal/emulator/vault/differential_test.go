package vaultemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
)

// TestSameAnswersAsVault sends the same logins to a real Vault dev server and to the emulator,
// configured alike, and requires the same status and the same error messages from both. It
// runs where scripts/build-vault.sh has built Vault and skips elsewhere.
func TestSameAnswersAsVault(t *testing.T) {
	real := vaulttest.Start(t)
	iss, other := oidctest.Start(t), oidctest.Start(t)
	real.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: iss.URL, BoundIssuer: iss.URL})
	real.WriteRole(t, "jwt", "demo", map[string]any{
		"bound_audiences": []string{"vault"}, "user_claim": "sub", "token_policies": []string{"demo"}, "token_ttl": "30m",
		"bound_claims": map[string]any{"callerId": []string{"demo-stack"}, "scope": []string{"read", "write"}},
	})
	real.WriteRole(t, "jwt", "noaud", map[string]any{"user_claim": "sub", "token_policies": []string{"demo"}, "token_ttl": "30m",
		"bound_claims": map[string]any{"callerId": []string{"demo-stack"}}})
	emu := httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL, Roles: []Role{{
		Name: "demo", BoundAudiences: []string{"vault"}, UserClaim: "sub", Policies: []string{"demo"}, TTL: 30 * time.Minute,
		BoundClaims: map[string][]string{"callerId": {"demo-stack"}, "scope": {"read", "write"}},
	}, {
		Name: "noaud", UserClaim: "sub", Policies: []string{"demo"}, TTL: 30 * time.Minute,
		BoundClaims: map[string][]string{"callerId": {"demo-stack"}},
	}}}}}))
	defer emu.Close()

	sign := func(tok oidctest.Token) string { return iss.Sign(t, tok) }
	general, flattened := oidctest.JSONSerialized(t, sign(oidctest.Token{Claims: runClaims(nil)}))
	twoSigs := strings.Replace(general, `"signatures":[`, `"signatures":[{"protected":"eyJhbGciOiJSUzI1NiJ9","signature":"AAAA"},`, 1)
	tests := []struct {
		name string
		body map[string]any
	}{
		{"accepted", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(nil)})}},
		{"accepted ES256", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(nil), Alg: "ES256"})}},
		{"accepted within the leeway", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"exp": time.Now().Add(-30 * time.Second).Unix()})})}},
		{"wrong audience", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": "sts.amazonaws.com"})})}},
		{"wrong stack", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"callerId": "other-stack"})})}},
		{"bound claim missing", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"scope": nil})})}},
		{"user claim missing", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"sub": nil})})}},
		{"expired", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(nil), ExpiresIn: -2 * time.Minute})}},
		{"not yet valid", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"nbf": time.Now().Add(5 * time.Minute).Unix()})})}},
		{"issued in the future", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"iat": time.Now().Add(5 * time.Minute).Unix()})})}},
		{"bad signature", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(nil), Rogue: true})}},
		{"another issuer", map[string]any{"role": "demo", "jwt": other.Sign(t, oidctest.Token{Claims: runClaims(nil)})}},
		{"another iss, the issuer's key", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"iss": "https://elsewhere.example"})})}},
		{"a good token in the general JWS JSON serialization", map[string]any{"role": "demo", "jwt": general}},
		{"a good token in the flattened JWS JSON serialization", map[string]any{"role": "demo", "jwt": flattened}},
		{"a good token with a line break in it", map[string]any{"role": "demo", "jwt": strings.Replace(sign(oidctest.Token{Claims: runClaims(nil)}), ".", ".\n", 1)}},
		{"not a JWT", map[string]any{"role": "demo", "jwt": "not-a-jwt"}},
		{"not base64url", map[string]any{"role": "demo", "jwt": "a.b.c"}},
		{"alg none", map[string]any{"role": "demo", "jwt": "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."}},
		{"three empty parts", map[string]any{"role": "demo", "jwt": ".."}},
		{"ES256 header, an empty payload, a short signature", map[string]any{"role": "demo", "jwt": "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"}},
		{"a JSON object that is not a JWS", map[string]any{"role": "demo", "jwt": "{\"payload\":1}"}},
		{"two signatures, one of them good", map[string]any{"role": "demo", "jwt": twoSigs}},
		{"HS256", map[string]any{"role": "demo", "jwt": "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"}},
		{"jwt a number", map[string]any{"role": "demo", "jwt": 7}},
		{"role a number", map[string]any{"role": 7, "jwt": "x"}},
		{"role a fraction", map[string]any{"role": 7.5, "jwt": "x"}},
		{"role true", map[string]any{"role": true, "jwt": "x"}},
		{"role null", map[string]any{"role": nil, "jwt": "x"}},
		{"role an array", map[string]any{"role": []any{"demo"}, "jwt": "x"}},
		{"role an object", map[string]any{"role": map[string]any{"a": 1}, "jwt": "x"}},
		{"role a number beyond float64 precision", map[string]any{"role": json.Number("12345678901234567890"), "jwt": "x"}},
		{"jwt false", map[string]any{"role": "demo", "jwt": false}},
		{"exp a string", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"exp": "soon"})})}},
		{"aud a list holding the bound audience", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": []any{"x", "vault"}})})}},
		{"no aud", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": nil})})}},
		{"no aud, a role without bound_audiences", map[string]any{"role": "noaud", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": nil})})}},
		{"aud an empty list, a role without bound_audiences", map[string]any{"role": "noaud", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": []any{}})})}},
		{"aud, a role without bound_audiences", map[string]any{"role": "noaud", "jwt": sign(oidctest.Token{Claims: runClaims(nil)})}},
		{"sub a number", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"sub": 5})})}},
		{"callerId a list holding the bound value", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"callerId": []any{"x", "demo-stack"}})})}},
		{"iat two days ago", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"iat": time.Now().Add(-48 * time.Hour).Unix()})})}},
		{"nbf a string", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"nbf": "x"})})}},
		{"no iss", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"iss": nil})})}},
		{"nbf within the leeway", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"nbf": time.Now().Add(30 * time.Second).Unix()})})}},
		{"exp with a fraction", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"exp": float64(time.Now().Add(time.Hour).Unix()) + 0.5})})}},
		{"aud a number", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": 5})})}},
		{"aud a list holding a number", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"aud": []any{"vault", 5}})})}},
		{"jti a number", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"jti": 5})})}},
		{"iat a string", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"iat": "x"})})}},
		{"sub a bool", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"sub": true})})}},
		{"sub an object", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"sub": map[string]any{}})})}},
		{"sub null", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"sub": json.RawMessage("null")})})}},
		{"jti a number, then nbf a string", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"jti": 5, "nbf": "x"})})}},
		{"jti a number, then sub a bool", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"jti": 5, "sub": true})})}},
		{"exp a string, then sub a number", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"exp": "x", "sub": 5})})}},
		{"sub a number, signed by an unpublished key", map[string]any{"role": "demo", "jwt": sign(oidctest.Token{Claims: runClaims(map[string]any{"sub": 5}), Rogue: true})}},
		{"unknown role", map[string]any{"role": "x", "jwt": sign(oidctest.Token{Claims: runClaims(nil)})}},
		{"no role", map[string]any{"jwt": sign(oidctest.Token{Claims: runClaims(nil)})}},
		{"no token", map[string]any{"role": "demo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := post(t, real.Addr(), tt.body)
			got := post(t, emu.URL, tt.body)
			if got != want {
				t.Errorf("emulator answered %+v, Vault %+v", got, want)
			}
		})
	}
	good := `{"role":"demo","jwt":"` + sign(oidctest.Token{Claims: runClaims(nil)}) + `"}`
	unknown := map[string]string{"X-Vault-Token": "hvs.CAESIunknown"}
	for _, tt := range []struct {
		name string
		rq   rawRequest
	}{
		{"login by PUT", rawRequest{method: http.MethodPut, path: "/v1/auth/jwt/login", body: good}},
		{"login by GET", rawRequest{method: http.MethodGet, path: "/v1/auth/jwt/login"}},
		{"a login body that is not JSON", rawRequest{path: "/v1/auth/jwt/login", body: "not json"}},
		{"a login body that is a JSON array", rawRequest{path: "/v1/auth/jwt/login", body: "[1,2]"}},
		{"a login body that is a JSON string", rawRequest{path: "/v1/auth/jwt/login", body: `"demo"`}},
		{"an empty login body", rawRequest{path: "/v1/auth/jwt/login"}},
		{"a parameter login does not know", rawRequest{path: "/v1/auth/jwt/login", body: good[:len(good)-1] + `,"extra":1,"another":"x"}`}},
		{"the role in capitals", rawRequest{path: "/v1/auth/jwt/login", body: strings.Replace(good, `"demo"`, `"DEMO"`, 1)}},
		{"the role as a query parameter", rawRequest{path: "/v1/auth/jwt/login?role=demo", body: `{"jwt":"x"}`}},
		{"a mount that is not enabled", rawRequest{path: "/v1/auth/nope/login", body: good}},
		{"lookup-self without a token", rawRequest{method: http.MethodGet, path: "/v1/auth/token/lookup-self"}},
		{"lookup-self of a token neither issued", rawRequest{method: http.MethodGet, path: "/v1/auth/token/lookup-self", header: unknown}},
		{"lookup-self of it as a bearer", rawRequest{method: http.MethodGet, path: "/v1/auth/token/lookup-self",
			header: map[string]string{"Authorization": "Bearer hvs.CAESIunknown"}}},
		{"lookup-self of it by POST", rawRequest{path: "/v1/auth/token/lookup-self", header: unknown}},
		{"a route the emulator does not serve, without a token", rawRequest{method: http.MethodGet, path: "/v1/secret/data/x"}},
		{"a route the emulator does not serve, with a token neither issued", rawRequest{method: http.MethodGet, path: "/v1/secret/data/x", header: unknown}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if want, got := send(t, real.Addr(), tt.rq), send(t, emu.URL, tt.rq); got != want {
				t.Errorf("emulator answered %+v, Vault %+v", got, want)
			}
		})
	}

	// A live token, each side's own from the same login, holds only the read of lookup-self: its
	// policies (default and demo, which grants nothing here) cover no other operation or path.
	realToken, emuToken := liveClientToken(t, real.Addr(), good), liveClientToken(t, emu.URL, good)
	for _, tt := range []struct {
		name string
		rq   rawRequest
	}{
		{"lookup-self of a live token", rawRequest{method: http.MethodGet, path: "/v1/auth/token/lookup-self"}},
		{"lookup-self of a live token by POST", rawRequest{path: "/v1/auth/token/lookup-self"}},
		{"lookup-self of a live token by PUT", rawRequest{method: http.MethodPut, path: "/v1/auth/token/lookup-self"}},
		{"lookup-self of a live token by DELETE", rawRequest{method: http.MethodDelete, path: "/v1/auth/token/lookup-self"}},
		{"lookup-self of a live token by OPTIONS", rawRequest{method: http.MethodOptions, path: "/v1/auth/token/lookup-self"}},
		{"lookup-self by PATCH without a content type", rawRequest{method: http.MethodPatch, path: "/v1/auth/token/lookup-self"}},
		{"lookup-self by PATCH of JSON", rawRequest{method: http.MethodPatch, path: "/v1/auth/token/lookup-self",
			header: map[string]string{"Content-Type": "application/json"}}},
		{"lookup-self by PATCH of a merge patch", rawRequest{method: http.MethodPatch, path: "/v1/auth/token/lookup-self",
			header: map[string]string{"Content-Type": "application/merge-patch+json"}, body: "{}"}},
		{"a route the emulator does not serve, with a live token", rawRequest{method: http.MethodGet, path: "/v1/sys/mounts"}},
		{"a secret, with a live token", rawRequest{method: http.MethodGet, path: "/v1/secret/data/x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withToken := func(token string) rawRequest {
				rq := tt.rq
				rq.header = map[string]string{"X-Vault-Token": token}
				for k, v := range tt.rq.header {
					rq.header[k] = v
				}
				return rq
			}
			if want, got := send(t, real.Addr(), withToken(realToken)), send(t, emu.URL, withToken(emuToken)); got != want {
				t.Errorf("emulator answered %+v, Vault %+v", got, want)
			}
		})
	}
}

// TestRevokeSelfAsVault: a live token revokes itself (POST or PUT revoke-self, 204) and is then
// unknown, to lookup-self and to a second revoke-self alike; another method is outside the
// default policy's update; all as a real Vault dev server answers. It skips where Vault is not
// built.
// Guards against: emulator.go refusing revoke-self as a route its tokens have no policy for.
func TestRevokeSelfAsVault(t *testing.T) {
	real := vaulttest.Start(t)
	iss := oidctest.Start(t)
	real.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: iss.URL, BoundIssuer: iss.URL})
	real.WriteRole(t, "jwt", "demo", map[string]any{
		"bound_audiences": []string{"vault"}, "user_claim": "sub", "token_policies": []string{"demo"}, "token_ttl": "30m",
		"bound_claims": map[string]any{"callerId": []string{"demo-stack"}},
	})
	emu := httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL, Roles: []Role{{
		Name: "demo", BoundAudiences: []string{"vault"}, UserClaim: "sub", Policies: []string{"demo"}, TTL: 30 * time.Minute,
		BoundClaims: map[string][]string{"callerId": {"demo-stack"}},
	}}}}}))
	defer emu.Close()
	body, err := json.Marshal(map[string]any{"role": "demo", "jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
	if err != nil {
		t.Fatal(err)
	}
	good := string(body)
	revoke := func(method string) rawRequest {
		return rawRequest{method: method, path: "/v1/auth/token/revoke-self"}
	}
	lookup := rawRequest{method: http.MethodGet, path: "/v1/auth/token/lookup-self"}
	for _, tc := range []struct {
		name  string
		steps []rawRequest
	}{
		{"POST, then lookup-self and POST again", []rawRequest{revoke(http.MethodPost), lookup, revoke(http.MethodPost)}},
		{"PUT", []rawRequest{revoke(http.MethodPut), lookup}},
		{"GET, then lookup-self", []rawRequest{revoke(http.MethodGet), lookup}},
		{"DELETE", []rawRequest{revoke(http.MethodDelete)}},
		{"without a token", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.steps == nil {
				if want, got := send(t, real.Addr(), revoke(http.MethodPost)), send(t, emu.URL, revoke(http.MethodPost)); got != want {
					t.Errorf("emulator answered %+v, Vault %+v", got, want)
				}
				return
			}
			realToken, emuToken := liveClientToken(t, real.Addr(), good), liveClientToken(t, emu.URL, good)
			for i, rq := range tc.steps {
				withToken := func(token string) rawRequest {
					rq := rq
					rq.header = map[string]string{"X-Vault-Token": token}
					return rq
				}
				if want, got := send(t, real.Addr(), withToken(realToken)), send(t, emu.URL, withToken(emuToken)); got != want {
					t.Errorf("step %d (%s %s): emulator answered %+v, Vault %+v", i+1, rq.method, rq.path, got, want)
				}
			}
		})
	}
}

// liveClientToken logs in at base with the login body good and returns the client token.
func liveClientToken(t *testing.T, base, good string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/auth/jwt/login", strings.NewReader(good))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Auth.ClientToken == "" {
		t.Fatalf("login at %s: %d, %v", base, resp.StatusCode, err)
	}
	return out.Auth.ClientToken
}

// answer is what a login answer says, less its random tokens and ids.
type answer struct {
	Status    int
	Errors    string
	Warnings  string
	Policies  string
	Lease     int
	Renewable bool
	Metadata  string
}

// rawRequest is a request to Vault's API as sent: "POST" when method is empty.
type rawRequest struct {
	method, path, body string
	header             map[string]string
}

// post logs in at base.
func post(t *testing.T, base string, body map[string]any) answer {
	t.Helper()
	data, _ := json.Marshal(body)
	return send(t, base, rawRequest{path: "/v1/auth/jwt/login", body: string(data)})
}

// send sends rq to base and reads the answer as a login answer.
func send(t *testing.T, base string, rq rawRequest) answer {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodPost
	}
	req, _ := http.NewRequest(rq.method, base+rq.path, strings.NewReader(rq.body))
	req.Header.Set("X-Vault-Request", "true")
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Errors   []string `json:"errors"`
		Warnings []string `json:"warnings"`
		Auth     *struct {
			ClientToken   string            `json:"client_token"`
			Policies      []string          `json:"policies"`
			TokenPolicies []string          `json:"token_policies"`
			LeaseDuration int               `json:"lease_duration"`
			Renewable     bool              `json:"renewable"`
			Metadata      map[string]string `json:"metadata"`
		} `json:"auth"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	a := answer{Status: resp.StatusCode}
	errs, _ := json.Marshal(out.Errors)
	warnings, _ := json.Marshal(out.Warnings)
	a.Errors, a.Warnings = string(errs), string(warnings)
	if out.Auth != nil {
		if !strings.HasPrefix(out.Auth.ClientToken, "hvs.") {
			t.Errorf("client token %q is not a Vault service token", out.Auth.ClientToken)
		}
		pol, _ := json.Marshal([][]string{out.Auth.Policies, out.Auth.TokenPolicies})
		meta, _ := json.Marshal(out.Auth.Metadata)
		a.Policies, a.Lease, a.Renewable, a.Metadata = string(pol), out.Auth.LeaseDuration, out.Auth.Renewable, string(meta)
	}
	return a
}
