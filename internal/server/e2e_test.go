package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// tokenClaims is every claim of contract section 5, decoded by the independent verifier.
type tokenClaims struct {
	Iss        string `json:"iss"`
	Sub        string `json:"sub"`
	Aud        any    `json:"aud"`
	Exp        int64  `json:"exp"`
	Iat        int64  `json:"iat"`
	Nbf        int64  `json:"nbf"`
	Jti        string `json:"jti"`
	SpaceID    string `json:"spaceId"`
	CallerType string `json:"callerType"`
	CallerID   string `json:"callerId"`
	RunType    string `json:"runType"`
	RunID      string `json:"runId"`
	RunPhase   string `json:"runPhase"`
	Scope      string `json:"scope"`
}

// verify checks a token of the server with go-oidc (discovery, JWKS, signature, iss, aud,
// expiry at now, or at the real time when now is nil) and returns its claims.
func (ts *testServer) verify(t *testing.T, token, audience string, now func() time.Time) tokenClaims {
	t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, ts.URL)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	cfg := &oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{"RS256", "ES256"}}
	if now != nil {
		cfg.Now = now
	}
	idt, err := provider.Verifier(cfg).Verify(ctx, token)
	if err != nil {
		t.Fatalf("go-oidc verify: %v", err)
	}
	var c tokenClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func jwtHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTokensVerifyIndependently(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			ts := startServer(t, serverOptions{alg: alg})
			created := ts.createRun(t, "vpc-prod", "TRACKED")
			run := created.Run
			if run.Phase != "INITIALIZING" || run.Scope != "read" || run.Space != "prod" || len(run.ID) != 26 {
				t.Fatalf("new run = %+v", run)
			}
			if got := run.ExpiresAt.Sub(run.CreatedAt); got != 3*time.Hour {
				t.Errorf("run lifetime %v, want runs.ttl 3h", got)
			}
			before := time.Now().Unix()
			tok, code := ts.mint(t, created.RunToken, "sts.amazonaws.com")
			if code != 200 {
				t.Fatalf("mint: %d", code)
			}
			c := ts.verify(t, tok.Token, "sts.amazonaws.com", nil)

			h := jwtHeader(t, tok.Token)
			if h["alg"] != alg || h["typ"] != "JWT" || h["kid"] == "" || h["kid"] == nil {
				t.Errorf("header = %v", h)
			}
			want := tokenClaims{
				Iss: ts.URL, Sub: "space:prod:stack:vpc-prod:run_type:TRACKED:scope:read", Aud: "sts.amazonaws.com",
				SpaceID: "prod", CallerType: "stack", CallerID: "vpc-prod", RunType: "TRACKED",
				RunID: run.ID, RunPhase: "INITIALIZING", Scope: "read",
			}
			got := c
			got.Exp, got.Iat, got.Nbf, got.Jti = 0, 0, 0, ""
			if got != want {
				t.Errorf("claims\n got %+v\nwant %+v", got, want)
			}
			if c.Iat < before || c.Iat > time.Now().Unix() {
				t.Errorf("iat %d not now", c.Iat)
			}
			if c.Exp-c.Iat != 3600 {
				t.Errorf("exp-iat = %d, want tokens.ttl 3600", c.Exp-c.Iat)
			}
			if c.Nbf > c.Iat || c.Iat-c.Nbf > 60 {
				t.Errorf("nbf %d is not within 60s before iat %d", c.Nbf, c.Iat)
			}
			if tok.ExpiresAt.Unix() != c.Exp {
				t.Errorf("expiresAt %v != exp %d", tok.ExpiresAt, c.Exp)
			}
			// jti is unique; the default audience applies when none is asked for.
			tok2, _ := ts.mint(t, created.RunToken, "")
			c2 := ts.verify(t, tok2.Token, "broker.test", nil)
			if c2.Jti == "" || c2.Jti == c.Jti {
				t.Errorf("jti not unique: %q, %q", c.Jti, c2.Jti)
			}
			// A verifier expecting another audience refuses the token.
			provider, _ := oidc.NewProvider(context.Background(), ts.URL)
			if _, err := provider.Verifier(&oidc.Config{ClientID: "other", SupportedSigningAlgs: []string{alg}}).Verify(context.Background(), tok.Token); err == nil {
				t.Error("token verified for the wrong audience")
			}
		})
	}
}

func TestSubjectTemplateAndSpacePath(t *testing.T) {
	ts := startServer(t, serverOptions{})
	// The dev space sets its own template; its stack's key is dev-ci, so use that key.
	var ans runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: limitedSecret, body: map[string]string{"stack": "app-dev", "runType": "TASK"}, out: &ans}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	tok, _ := ts.mint(t, ans.RunToken, "vault")
	c := ts.verify(t, tok.Token, "vault", nil)
	if want := "space:dev:path:root/dev:stack:app-dev:scope:read"; c.Sub != want {
		t.Errorf("sub = %q, want %q", c.Sub, want)
	}
}

func TestScopeFollowsPhase(t *testing.T) {
	ts := startServer(t, serverOptions{})
	cases := []struct {
		runType string
		phases  []string // phases moved to, in order
		scopes  []string // token scope after each move
	}{
		{"TRACKED", []string{"PLANNING", "APPLYING"}, []string{"read", "write"}},
		{"DESTROY", []string{"PLANNING", "DESTROYING"}, []string{"read", "write"}},
		{"TASK", []string{"PERFORMING"}, []string{"write"}},
		{"PROPOSED", []string{"PLANNING"}, []string{"read"}},
	}
	for _, tc := range cases {
		t.Run(tc.runType, func(t *testing.T) {
			ans := ts.createRun(t, "app-a", tc.runType)
			for i, phase := range tc.phases {
				var moved runAnswer
				if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + ans.Run.ID + "/phase", bearer: adminSecret, body: map[string]string{"phase": phase}, out: &moved}); code != 200 {
					t.Fatalf("to %s: %d", phase, code)
				}
				if moved.Run.Phase != phase || moved.Run.Scope != tc.scopes[i] {
					t.Errorf("after %s: run %+v", phase, moved.Run)
				}
				tok, _ := ts.mint(t, ans.RunToken, "aud")
				c := ts.verify(t, tok.Token, "aud", nil)
				if c.Scope != tc.scopes[i] || c.RunPhase != phase {
					t.Errorf("token in %s: scope %q phase %q, want %q", phase, c.Scope, c.RunPhase, tc.scopes[i])
				}
				if !strings.HasSuffix(c.Sub, ":scope:"+tc.scopes[i]) || !strings.Contains(c.Sub, ":run_type:"+tc.runType+":") {
					t.Errorf("sub %q", c.Sub)
				}
			}
		})
	}
}

func TestProposedRunNeverWrites(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ans := ts.createRun(t, "vpc-prod", "PROPOSED")
	for _, phase := range []string{"APPLYING", "DESTROYING", "PERFORMING"} {
		if code := ts.setPhase(t, ans.Run.ID, phase); code != 409 {
			t.Errorf("PROPOSED -> %s: %d, want 409", phase, code)
		}
	}
	// Nor can it be created in a write phase.
	for _, phase := range []string{"APPLYING", "FINISHED"} {
		code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret, body: map[string]string{"stack": "vpc-prod", "runType": "PROPOSED", "phase": phase}})
		if code != 400 {
			t.Errorf("create PROPOSED in %s: %d, want 400", phase, code)
		}
	}
	ts.setPhase(t, ans.Run.ID, "PLANNING")
	tok, _ := ts.mint(t, ans.RunToken, "aud")
	if c := ts.verify(t, tok.Token, "aud", nil); c.Scope != "read" {
		t.Errorf("PROPOSED token scope %q", c.Scope)
	}
	// Backwards is refused too, for every type.
	tracked := ts.createRun(t, "vpc-prod", "TRACKED")
	ts.setPhase(t, tracked.Run.ID, "APPLYING")
	if code := ts.setPhase(t, tracked.Run.ID, "PLANNING"); code != 409 {
		t.Errorf("APPLYING -> PLANNING: %d, want 409", code)
	}
	if code := ts.setPhase(t, tracked.Run.ID, "BOGUS"); code != 400 {
		t.Errorf("unknown phase: %d, want 400", code)
	}
}

func TestFinishRevokesRunToken(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ans := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, ans.RunToken, ""); code != 200 {
		t.Fatalf("mint before finish: %d", code)
	}
	var fin runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + ans.Run.ID + "/finish", bearer: adminSecret, out: &fin}); code != 200 || fin.Run.Phase != "FINISHED" {
		t.Fatalf("finish: %d %+v", code, fin.Run)
	}
	if _, code := ts.mint(t, ans.RunToken, ""); code != 401 {
		t.Errorf("mint after finish: %d, want 401", code)
	}
	var again runAnswer
	if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + ans.Run.ID + "/finish", bearer: adminSecret, out: &again}); code != 200 || again.Run.Phase != "FINISHED" {
		t.Errorf("finish twice: %d %+v, want 200 with the finished run (a retry of a lost answer)", code, again.Run)
	}
	if _, code := ts.mint(t, ans.RunToken, ""); code != 401 {
		t.Errorf("mint after the second finish: %d, want 401", code)
	}
	var got runAnswer
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + ans.Run.ID, bearer: adminSecret, out: &got}); code != 200 || got.Run.Phase != "FINISHED" || got.RunToken != "" {
		t.Errorf("get finished run: %d %+v", code, got)
	}
	if _, code := ts.mint(t, "brk_run_not-a-token", ""); code != 401 {
		t.Errorf("unknown run token: %d", code)
	}
	if _, code := ts.mint(t, "", ""); code != 401 {
		t.Errorf("no run token: %d", code)
	}
	// An API key is not a run token.
	if _, code := ts.mint(t, adminSecret, ""); code != 401 {
		t.Errorf("api key as run token: %d", code)
	}
}

func TestTokenLifetimeCappedAtRunExpiry(t *testing.T) {
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	ts := startServer(t, serverOptions{now: clock.Now})
	ans := ts.createRun(t, "vpc-prod", "TRACKED")
	clock.Advance(2*time.Hour + 30*time.Minute) // run expires at +3h; tokens.ttl is 1h
	tok, code := ts.mint(t, ans.RunToken, "aud")
	if code != 200 {
		t.Fatalf("mint: %d", code)
	}
	c := ts.verify(t, tok.Token, "aud", clock.Now)
	if c.Exp != ans.Run.ExpiresAt.Unix() {
		t.Errorf("exp %d, want the run's expiry %d", c.Exp, ans.Run.ExpiresAt.Unix())
	}
	clock.Advance(31 * time.Minute) // past the run's expiry
	if _, code := ts.mint(t, ans.RunToken, "aud"); code != 401 {
		t.Errorf("mint after run expiry: %d, want 401", code)
	}
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + ans.Run.ID, bearer: adminSecret}); code != 404 {
		t.Errorf("get expired run: %d, want 404", code)
	}
}

func TestRBAC(t *testing.T) {
	ts := startServer(t, serverOptions{})
	prodRun := ts.createRun(t, "vpc-prod", "TRACKED")
	cases := []struct {
		name, method, path, secret string
		body                       any
		want                       int
	}{
		{"no key", "POST", "/v1/runs", "", map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}, 401},
		{"wrong secret", "POST", "/v1/runs", "nope", map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}, 401},
		{"run token is not an api key", "POST", "/v1/runs", prodRun.RunToken, map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}, 401},
		{"binding on prod covers prod", "POST", "/v1/runs", adminSecret, map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}, 201},
		{"binding on prod covers child team-a", "POST", "/v1/runs", adminSecret, map[string]string{"stack": "app-a", "runType": "TRACKED"}, 201},
		// A stack outside every binding of the key is answered like one that does not exist.
		{"binding on prod does not cover dev", "POST", "/v1/runs", adminSecret, map[string]string{"stack": "app-dev", "runType": "TRACKED"}, 404},
		{"binding on dev does not cover prod", "POST", "/v1/runs", limitedSecret, map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}, 404},
		{"role without run:create", "POST", "/v1/runs", auditorSecret, map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}, 403},
		{"auditor on root reads a prod run", "GET", "/v1/runs/" + prodRun.Run.ID, auditorSecret, nil, 200},
		{"auditor cannot move a run", "POST", "/v1/runs/" + prodRun.Run.ID + "/phase", auditorSecret, map[string]string{"phase": "PLANNING"}, 403},
		// So is a run in a space outside every binding of the key.
		{"dev key cannot read a prod run", "GET", "/v1/runs/" + prodRun.Run.ID, limitedSecret, nil, 404},
		{"dev key cannot move a prod run", "POST", "/v1/runs/" + prodRun.Run.ID + "/phase", limitedSecret, map[string]string{"phase": "PLANNING"}, 404},
		{"dev key cannot finish a prod run", "POST", "/v1/runs/" + prodRun.Run.ID + "/finish", limitedSecret, nil, 404},
		{"malformed authorization", "GET", "/v1/runs/" + prodRun.Run.ID, "", nil, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code := ts.call(t, apiRequest{method: tc.method, path: tc.path, bearer: tc.secret, body: tc.body}); code != tc.want {
				t.Errorf("status %d, want %d", code, tc.want)
			}
		})
	}
}

func TestBadInputGetsEnvelope(t *testing.T) {
	ts := startServer(t, serverOptions{})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	big := `{"stack": "` + strings.Repeat("a", 70<<10) + `"}`
	cases := []struct {
		name, method, path, secret string
		body                       any
		want                       int
	}{
		{"body over 64 KiB", "POST", "/v1/runs", adminSecret, big, 413},
		{"malformed json", "POST", "/v1/runs", adminSecret, `{"stack": `, 400},
		{"not an object", "POST", "/v1/runs", adminSecret, `[1,2]`, 400},
		{"unknown field", "POST", "/v1/runs", adminSecret, `{"stack":"vpc-prod","runType":"TRACKED","bogus":1}`, 400},
		{"trailing data", "POST", "/v1/runs", adminSecret, `{"stack":"vpc-prod","runType":"TRACKED"} {}`, 400},
		{"empty body", "POST", "/v1/runs", adminSecret, nil, 400},
		{"missing stack", "POST", "/v1/runs", adminSecret, `{"runType":"TRACKED"}`, 400},
		{"unknown stack", "POST", "/v1/runs", adminSecret, `{"stack":"nope","runType":"TRACKED"}`, 404},
		{"bad run type", "POST", "/v1/runs", adminSecret, `{"stack":"vpc-prod","runType":"tracked"}`, 400},
		{"wrong field type", "POST", "/v1/runs", adminSecret, `{"stack":5,"runType":"TRACKED"}`, 400},
		{"unknown run", "GET", "/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV", adminSecret, nil, 404},
		{"unknown endpoint", "GET", "/v1/nothing", adminSecret, nil, 404},
		{"wrong method", "DELETE", "/v1/runs/" + run.Run.ID, adminSecret, nil, 405},
		{"audience with spaces", "POST", "/v1/token", run.RunToken, `{"audience":"a b"}`, 400},
		{"token body over 64 KiB", "POST", "/v1/token", run.RunToken, `{"audience":"` + strings.Repeat("x", 70<<10) + `"}`, 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code := ts.call(t, apiRequest{method: tc.method, path: tc.path, bearer: tc.secret, body: tc.body}); code != tc.want {
				t.Errorf("status %d, want %d", code, tc.want)
			}
		})
	}
}

func TestDiscoveryAndJWKSCaching(t *testing.T) {
	ts := startServer(t, serverOptions{})
	var disc map[string]any
	resp := get(t, ts.URL+"/.well-known/openid-configuration", "")
	if err := json.Unmarshal(resp.body, &disc); err != nil {
		t.Fatal(err)
	}
	if disc["issuer"] != ts.URL || disc["jwks_uri"] != ts.URL+"/.well-known/jwks" {
		t.Errorf("discovery issuer/jwks_uri: %v %v", disc["issuer"], disc["jwks_uri"])
	}
	for key, want := range map[string]string{"response_types_supported": "id_token", "subject_types_supported": "public", "id_token_signing_alg_values_supported": "RS256", "claims_supported": "runPhase"} {
		list, _ := disc[key].([]any)
		if !containsAny(list, want) {
			t.Errorf("%s = %v, want it to hold %q", key, disc[key], want)
		}
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks"} {
		first := get(t, ts.URL+path, "")
		etag := first.header.Get("ETag")
		maxAge := cacheMaxAge(t, first.header.Get("Cache-Control"))
		if etag == "" || maxAge <= 0 || maxAge >= 24*3600 {
			t.Errorf("%s: ETag %q, max-age %d (must be positive and under prepublish 24h)", path, etag, maxAge)
		}
		again := get(t, ts.URL+path, etag)
		if again.status != http.StatusNotModified || len(again.body) != 0 {
			t.Errorf("%s with If-None-Match: %d, %d bytes; want 304 and no body", path, again.status, len(again.body))
		}
		if other := get(t, ts.URL+path, `"stale"`); other.status != 200 {
			t.Errorf("%s with a stale ETag: %d", path, other.status)
		}
	}
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(get(t, ts.URL+"/.well-known/jwks", "").body, &jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) == 0 {
		t.Fatal("empty JWKS")
	}
	for _, k := range jwks.Keys {
		if k["kid"] == nil || k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["d"] != nil {
			t.Errorf("JWK %v", k)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	ts := startServer(t, serverOptions{})
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := get(t, ts.URL+path, ""); r.status != 200 {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
	ts.createRun(t, "vpc-prod", "TRACKED")
	m := get(t, ts.URL+"/metrics", "")
	if m.status != 200 || !strings.Contains(string(m.body), `broker_http_requests_total{code="201",route="POST /v1/runs"} 1`) {
		t.Errorf("metrics: %d, missing the run-create counter", m.status)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	ts := startServer(t, serverOptions{})
	ans := ts.createRun(t, "vpc-prod", "TRACKED")
	tok, _ := ts.mint(t, ans.RunToken, "aud")
	ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: "wrong-secret-xyz", body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}})
	ts.mint(t, "brk_run_forged", "")
	ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + ans.Run.ID + "/finish", bearer: adminSecret})
	ts.mint(t, ans.RunToken, "")
	logs := ts.Logs.String()
	if !strings.Contains(logs, ans.Run.ID) {
		t.Fatalf("logs do not even mention the run; the check would prove nothing:\n%s", logs)
	}
	for name, secret := range map[string]string{
		"run token": ans.RunToken, "jwt": tok.Token, "jwt signature": tok.Token[strings.LastIndex(tok.Token, ".")+1:],
		"wrong secret": "wrong-secret-xyz", "forged token": "brk_run_forged", "admin secret": "Bearer " + adminSecret,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain the %s", name)
		}
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, url, ifNoneMatch string) response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, body}
}

func cacheMaxAge(t *testing.T, cc string) int {
	t.Helper()
	for _, part := range strings.Split(cc, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "max-age="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("Cache-Control %q", cc)
			}
			return n
		}
	}
	return 0
}

func containsAny(list []any, want string) bool {
	for _, v := range list {
		if fmt.Sprint(v) == want {
			return true
		}
	}
	return false
}
