package vaultemu

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestUserClaimMustBeAString pins that a login whose user claim is present but not a
// string (a number, a boolean, a list, an object) is refused 400 "claim ... could not be
// converted to string", as Vault's JWT auth refuses it.
// Guards against: internal/emulator/vault/login.go:104 dropping the user claim's string check
func TestUserClaimMustBeAString(t *testing.T) {
	iss := oidctest.Start(t)
	emu := New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL, Roles: []Role{{
		Name: "by-caller", BoundAudiences: []string{"vault"}, UserClaim: "callerId",
	}}}}})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	f := &fixture{iss: iss, srv: srv}
	if status, body := f.login(t, map[string]any{"role": "by-caller", "jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})}); status != http.StatusOK {
		t.Fatalf("string user claim: %d %v", status, body)
	}
	for _, v := range []any{7, true, []string{"demo-stack"}, map[string]any{"id": "demo-stack"}} {
		status, body := f.login(t, map[string]any{"role": "by-caller", "jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(map[string]any{"callerId": v})})})
		want := []any{`claim "callerId" could not be converted to string`}
		if status != http.StatusBadRequest || !slices.Equal(body["errors"].([]any), want) {
			t.Errorf("callerId %v: %d %v, want 400 %v", v, status, body, want)
		}
	}
}

// TestRoleWithoutTTLGetsTheDefault pins that a role without a TTL issues tokens that live
// DefaultTTL (lease_duration 3600) and answer lookup-self, not tokens dead on arrival.
// Guards against: internal/emulator/vault/login.go:45 dropping the DefaultTTL fallback
func TestRoleWithoutTTLGetsTheDefault(t *testing.T) {
	f := newFixture(t)
	status, body := f.login(t, map[string]any{"role": "no-aud", "jwt": f.iss.Sign(t, oidctest.Token{Claims: runClaims(map[string]any{"aud": nil})})})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	auth := body["auth"].(map[string]any)
	if got := auth["lease_duration"]; got != float64(DefaultTTL/time.Second) {
		t.Errorf("lease_duration = %v, want %d", got, int(DefaultTTL/time.Second))
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/v1/auth/token/lookup-self", nil)
	req.Header.Set("X-Vault-Token", auth["client_token"].(string))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := decode(t, resp); status != http.StatusOK {
		t.Errorf("lookup-self of a fresh token: %d %v", status, body)
	}
}

// TestLiveTokenStillDeniedElsewhere pins that a live token on any path the emulator does
// not serve is answered 403 with Vault's one-error "permission denied", as Vault answers a token
// whose policies do not cover the path; never an empty 200.
// Guards against: internal/emulator/vault/emulator.go:127 "!refused" -> "refused"
func TestLiveTokenStillDeniedElsewhere(t *testing.T) {
	f := newFixture(t)
	status, body := f.login(t, map[string]any{"role": "demo", "jwt": f.iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	token := body["auth"].(map[string]any)["client_token"].(string)
	for _, path := range []string{"/v1/secret/data/prod", "/v1/sys/mounts"} {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		req.Header.Set("X-Vault-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		status, body := decode(t, resp)
		if status != http.StatusForbidden || !slices.Equal(body["errors"].([]any), []any{deniedPolicy}) {
			t.Errorf("GET %s with a live token: %d %v, want 403 %q", path, status, body, deniedPolicy)
		}
	}
}

// TestTokenDiesAtItsExpiry pins that a Vault token is refused (403 permission denied,
// invalid token) from the instant its TTL runs out, and answers lookup-self the nanosecond
// before.
// Guards against: internal/emulator/vault/lookup.go:27 "!now.Before(expiry)" -> "now.After(expiry)"
func TestTokenDiesAtItsExpiry(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	now := at
	e := New(Config{Now: func() time.Time { return now }})
	e.tokens["hvs.expiring"] = issued{accessor: "a", role: "r", mount: "jwt", issuedAt: at, ttl: time.Minute}
	lookup := func() int {
		req := httptest.NewRequest(http.MethodGet, "/v1/auth/token/lookup-self", nil)
		req.Header.Set("X-Vault-Token", "hvs.expiring")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	now = at.Add(time.Minute - time.Nanosecond)
	if got := lookup(); got != http.StatusOK {
		t.Fatalf("lookup-self just before expiry = %d, want 200", got)
	}
	now = at.Add(time.Minute)
	if got := lookup(); got != http.StatusForbidden {
		t.Errorf("lookup-self at expiry = %d, want 403", got)
	}
}
