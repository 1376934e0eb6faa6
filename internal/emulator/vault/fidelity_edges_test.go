package vaultemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestBoundClaimListNeedsAMatch pins that a bound claim carried as a list is accepted only
// when one of its strings is an allowed value: a list of other values is refused 400.
// Guards against: any string element matching in login.go:claimMatches
func TestBoundClaimListNeedsAMatch(t *testing.T) {
	f := newFixture(t)
	jwt := f.iss.Sign(t, oidctest.Token{Claims: runClaims(map[string]any{"callerId": []any{"other-stack", "x"}})})
	status, body := f.login(t, map[string]any{"role": "demo", "jwt": jwt})
	want := `error validating claims: claim "callerId" does not match any associated bound claim values`
	if status != http.StatusBadRequest || !errorsAre(body, want) {
		t.Errorf("login with callerId [other-stack x] = %d %v, want 400 %q", status, body, want)
	}
}

// TestLookupSelfAgreesWithLogin pins that a role listing a policy twice, or "default"
// itself, grants each policy once ("default" and the role's, sorted), that lookup-self reports
// the same policies and a renewable token, and that a role without a TTL grants an hour.
// Guards against: slices.Compact dropped in login.go:policiesOf
// Guards against: lookup-self policies not the token's in lookup.go:lookupSelf
// Guards against: lookup-self "renewable" false in lookup.go:lookupSelf
// Guards against: DefaultTTL other than an hour in emulator.go
func TestLookupSelfAgreesWithLogin(t *testing.T) {
	iss := oidctest.Start(t)
	srv := httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL, Roles: []Role{{
		Name: "demo", BoundAudiences: []string{"vault"}, UserClaim: "sub", Policies: []string{"demo", "default", "demo"},
	}}}}}))
	t.Cleanup(srv.Close)
	f := &fixture{iss: iss, srv: srv}
	status, body := f.login(t, map[string]any{"role": "demo", "jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
	if status != http.StatusOK {
		t.Fatalf("login: %d %v", status, body)
	}
	auth := body["auth"].(map[string]any)
	want := []any{"default", "demo"}
	if !slices.Equal(auth["policies"].([]any), want) || auth["lease_duration"] != float64(3600) {
		t.Errorf("login policies %v lease %v, want %v and 3600", auth["policies"], auth["lease_duration"], want)
	}
	status, self := sendVault(t, srv.URL, vaultRequest{method: http.MethodGet, path: "/v1/auth/token/lookup-self",
		header: map[string]string{"X-Vault-Token": auth["client_token"].(string)}})
	data, _ := self["data"].(map[string]any)
	if status != http.StatusOK || data["renewable"] != true || !slices.Equal(data["policies"].([]any), want) {
		t.Errorf("lookup-self = %d %v, want 200 renewable with policies %v", status, self, want)
	}
}

// TestTokenHeaderPrecedence pins which token a request carries when it sends both
// headers: X-Vault-Token wins over an Authorization bearer, as in Vault, so an unknown
// X-Vault-Token is refused even beside a live bearer, and a live one is served beside a bogus
// bearer.
// Guards against: Authorization bearer read before X-Vault-Token in lookup.go:denied
func TestTokenHeaderPrecedence(t *testing.T) {
	f := newFixture(t)
	live := liveToken(t, f)
	for _, c := range []struct {
		header, bearer string
		want           int
	}{{live, "hvs.bogus", http.StatusOK}, {"hvs.bogus", live, http.StatusForbidden}} {
		status, body := sendVault(t, f.srv.URL, vaultRequest{method: http.MethodGet, path: "/v1/auth/token/lookup-self",
			header: map[string]string{"X-Vault-Token": c.header, "Authorization": "Bearer " + c.bearer}})
		if status != c.want {
			t.Errorf("lookup-self with X-Vault-Token %.9s and bearer %.9s = %d %v, want %d", c.header, c.bearer, status, body, c.want)
		}
	}
}

// TestLoginBodyCapped pins that a login body beyond 1 MiB is refused 400 without being
// read whole, even when it carries a good role and token.
// Guards against: request body not capped in field.go:readLogin
// Guards against: maxRequestBytes raised in emulator.go
func TestLoginBodyCapped(t *testing.T) {
	f := newFixture(t)
	good, _ := json.Marshal(map[string]any{"role": "demo", "jwt": f.iss.Sign(t, oidctest.Token{Claims: runClaims(nil)}),
		"pad": strings.Repeat("x", 1<<20)})
	status, body := sendVault(t, f.srv.URL, vaultRequest{path: "/v1/auth/jwt/login", body: string(good)})
	if status != http.StatusBadRequest || !errorsAre(body, "error parsing JSON: failed to read the request body") {
		t.Errorf("login with a %d-byte body = %d %v, want 400", len(good), status, body)
	}
}

// TestRoleFalseReadsAsZero pins that a role given as the JSON boolean false is read as
// the text "0", as Vault converts it.
// Guards against: false read as "false" in field.go:stringField
func TestRoleFalseReadsAsZero(t *testing.T) {
	f := newFixture(t)
	status, body := f.login(t, map[string]any{"role": false, "jwt": "x"})
	if want := `role "0" could not be found`; status != http.StatusBadRequest || !errorsAre(body, want) {
		t.Errorf("login with role false = %d %v, want 400 %q", status, body, want)
	}
}

// TestRolePoliciesAsVaultKeepsThem pins two rules of Vault's on a role's policies: a blank name
// is left out of the token's policies, and a login whose token would carry "root" (in any case)
// is refused 400 "auth methods cannot create root tokens", so a role configured with it never
// yields a token more powerful than Vault would give.
// Guards against: login.go:policiesOf keeping blank names
// Guards against: login.go:login issuing a token with the root policy
func TestRolePoliciesAsVaultKeepsThem(t *testing.T) {
	for _, tc := range []struct {
		policies []string
		status   int
		want     []any
	}{
		{[]string{"demo", " ", ""}, http.StatusOK, []any{"default", "demo"}},
		{[]string{"demo", " Root "}, http.StatusBadRequest, nil},
	} {
		iss := oidctest.Start(t)
		srv := httptest.NewServer(New(Config{Mounts: []Mount{{Path: "jwt", BoundIssuer: iss.URL, Roles: []Role{{
			Name: "demo", BoundAudiences: []string{"vault"}, UserClaim: "sub", Policies: tc.policies,
		}}}}}))
		f := &fixture{iss: iss, srv: srv}
		status, body := f.login(t, map[string]any{"role": "demo", "jwt": iss.Sign(t, oidctest.Token{Claims: runClaims(nil)})})
		srv.Close()
		if status != tc.status {
			t.Errorf("policies %q: login %d %v, want %d", tc.policies, status, body, tc.status)
			continue
		}
		if tc.status != http.StatusOK {
			if !errorsAre(body, "auth methods cannot create root tokens") {
				t.Errorf("policies %q: refusal %v", tc.policies, body)
			}
			continue
		}
		if got := body["auth"].(map[string]any)["policies"].([]any); !slices.Equal(got, tc.want) {
			t.Errorf("policies %q: token policies %v, want %v", tc.policies, got, tc.want)
		}
	}
}
