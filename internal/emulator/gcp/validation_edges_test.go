package gcpemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// stillFixture is newFixture's emulator with a clock that stands still at a whole second,
// so that instants at a token's very expiry can be reached exactly.
func stillFixture(t *testing.T) (*fixture, *fakeclock.Clock) {
	t.Helper()
	c := fakeclock.New(time.Unix(2_000_000_000, 0))
	f := newFixture(t)
	anyone := "principalSet://iam.googleapis.com/" + testPool + "/*"
	emu := New(Config{
		Providers:       []Provider{{Name: testProvider, Issuer: f.iss.URL}},
		ServiceAccounts: []ServiceAccount{{Email: writerSA, Members: []string{anyone}}},
		Now:             c.Now,
	})
	f.emu, f.srv = emu, newServer(t, emu)
	return f, c
}

// signedSubject signs a good subject token issued at c's instant, with extra claims.
func signedSubject(t *testing.T, f *fixture, extra map[string]any) string {
	t.Helper()
	c := claims("write")
	for k, v := range extra {
		c[k] = v
	}
	return f.iss.Sign(t, oidctest.Token{Claims: c})
}

// postJSONExchange posts body as a JSON exchange request.
func postJSONExchange(t *testing.T, f *fixture, body map[string]any) (int, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return postRaw(t, f, rawPost{contentType: "application/json", body: string(raw)})
}

// TestSTSJSONFieldMustBeString checks that a JSON exchange request whose field holds a
// boolean or a number, where the field is a string, is refused 400 invalid_request naming the
// field, even for a field STS otherwise ignores.
// Guards against: sts.go:checkSTSFields non-string values (number, boolean) let through
func TestSTSJSONFieldMustBeString(t *testing.T) {
	f := newFixture(t)
	for _, v := range []any{true, 7} {
		body := map[string]any{}
		for k, vs := range stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")})) {
			body[k] = vs[0]
		}
		body["options"] = v
		status, out := postJSONExchange(t, f, body)
		desc, _ := out["error_description"].(string)
		if status != http.StatusBadRequest || !strings.Contains(desc, `at "options"`) {
			t.Errorf("options %v: %d %v, want 400 naming options", v, status, out)
		}
	}
}

// TestSTSRequiresRequestedTokenType checks that an exchange without
// requested_token_type is refused 400 invalid_request naming the parameter.
// Guards against: sts.go:serveSTS empty requested_token_type accepted
func TestSTSRequiresRequestedTokenType(t *testing.T) {
	f := newFixture(t)
	form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
	form.Del("requested_token_type")
	status, body := f.postSTS(t, form)
	desc, _ := body["error_description"].(string)
	if status != http.StatusBadRequest || !strings.Contains(desc, `"requested_token_type"`) {
		t.Fatalf("%d %v, want 400 invalid_request about requested_token_type", status, body)
	}
}

// TestSTSOIDCSubjectTokenTypes checks that an OIDC provider takes a subject token of
// type jwt or id_token only: an access_token subject type is refused 400 invalid_request.
// Guards against: sts.go:serveSTS access_token accepted as subject_token_type
func TestSTSOIDCSubjectTokenTypes(t *testing.T) {
	f := newFixture(t)
	for typ, want := range map[string]int{tokenTypeIDToken: 200, tokenTypeAccess: 400} {
		form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("read")}))
		form.Set("subject_token_type", typ)
		if status, body := f.postSTS(t, form); status != want {
			t.Errorf("subject_token_type %s: %d %v, want %d", typ, status, body, want)
		}
	}
}

// TestIAMScopeGrantsImpersonation checks that a federated token exchanged for the
// https://www.googleapis.com/auth/iam scope alone may call generateAccessToken.
// Guards against: sts.go:hasScope iam scope dropped
func TestIAMScopeGrantsImpersonation(t *testing.T) {
	f := newFixture(t)
	form := stsForm(f.iss.Sign(t, oidctest.Token{Claims: claims("write")}))
	form.Set("scope", "https://www.googleapis.com/auth/iam")
	status, body := f.postSTS(t, form)
	if status != http.StatusOK {
		t.Fatalf("STS: %d %v", status, body)
	}
	fed, _ := body["access_token"].(string)
	status, body = f.postIAM(t, writerSA, fed, map[string]any{"scope": []string{cloudScope}})
	if status != http.StatusOK {
		t.Fatalf("generateAccessToken with the iam scope: %d %v", status, body)
	}
}

// TestSTSIssuerUnreachable checks that a subject token whose issuer's discovery
// cannot be fetched is refused 400 invalid_grant with Google's "Error connecting" message.
// Guards against: sts.go:describe ErrDiscovery case dropped
func TestSTSIssuerUnreachable(t *testing.T) {
	f := newFixture(t)
	const dead = "http://127.0.0.1:1"
	emu := New(Config{Providers: []Provider{{Name: testProvider, Issuer: dead}}})
	f.emu, f.srv = emu, newServer(t, emu)
	status, body := f.postSTS(t, stsForm(signedSubject(t, f, map[string]any{"iss": dead})))
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" ||
		body["error_description"] != msgIssuerUnreachable {
		t.Fatalf("%d %v, want 400 invalid_grant %q", status, body, msgIssuerUnreachable)
	}
}

// TestSTSTokenAtItsExpIsStale checks that a subject token refused at the very second of
// its exp is described as stale, not as not yet valid, even when its nbf is also ahead.
// Guards against: sts.go:describe "!now.Before(exp)" -> "now.After(exp)"
func TestSTSTokenAtItsExpIsStale(t *testing.T) {
	f, c := stillFixture(t)
	now := c.Now().Unix()
	times := map[string]any{"iat": now - 60, "nbf": now + 3600, "exp": now}
	tok := signedSubject(t, f, times)
	status, body := f.postSTS(t, stsForm(tok))
	desc, _ := body["error_description"].(string)
	if status != http.StatusBadRequest || !strings.Contains(desc, "is stale to sign-in") {
		t.Fatalf("%d %v, want 400 invalid_grant naming a stale token", status, body)
	}
}

// TestFederatedTokenDeadAtItsExpiry checks that a federated token of a subject token living
// longer than an hour is refused (401) from the very instant its hour ends, and taken one
// second before.
// Guards against: iam.go:serveIAM "!now.Before(expires)" -> "now.After(expires)"
func TestFederatedTokenDeadAtItsExpiry(t *testing.T) {
	f, c := stillFixture(t)
	now := c.Now().Unix()
	times := map[string]any{"iat": now, "exp": now + 2*int64(federatedLifetime/time.Second)}
	status, body := f.postSTS(t, stsForm(signedSubject(t, f, times)))
	if status != http.StatusOK {
		t.Fatalf("STS: %d %v", status, body)
	}
	fed, _ := body["access_token"].(string)
	for _, tc := range []struct {
		at     time.Duration
		status int
	}{{federatedLifetime - time.Second, 200}, {federatedLifetime, 401}} {
		c.Set(time.Unix(now, 0).Add(tc.at))
		status, body := f.postIAM(t, writerSA, fed, map[string]any{"scope": []string{cloudScope}})
		if status != tc.status {
			t.Errorf("%s after the exchange: %d %v, want %d", tc.at, status, body, tc.status)
		}
	}
}

// TestAccessTokenDeadAtItsExpireTime checks that AccessTokenInfo reports an access token
// as no longer live from the very instant of its expireTime.
// Guards against: emulator.go:AccessTokenInfo "now.Before(expires)" -> "!now.After(expires)"
func TestAccessTokenDeadAtItsExpireTime(t *testing.T) {
	f, c := stillFixture(t)
	now := c.Now().Unix()
	times := map[string]any{"iat": now, "exp": now + 600}
	_, body := f.postSTS(t, stsForm(signedSubject(t, f, times)))
	fed, _ := body["access_token"].(string)
	req := map[string]any{"scope": []string{cloudScope}, "lifetime": "60s"}
	status, body := f.postIAM(t, writerSA, fed, req)
	if status != http.StatusOK {
		t.Fatalf("generateAccessToken: %d %v", status, body)
	}
	token, _ := body["accessToken"].(string)
	c.Advance(59 * time.Second)
	if _, live := f.emu.AccessTokenInfo(token); !live {
		t.Fatal("token 59 s into a 60 s lifetime is reported dead")
	}
	c.Advance(time.Second)
	if _, live := f.emu.AccessTokenInfo(token); live {
		t.Error("token at its expireTime is reported live")
	}
}

// TestCallNamesConfiguredAccount checks that a generateAccessToken call naming the
// service account in another case is recorded under the account's configured email.
// Guards against: iam.go:serveIAM call.ServiceAccount not set to the configured email
func TestCallNamesConfiguredAccount(t *testing.T) {
	f := newFixture(t)
	fed := f.federatedToken(t, "write")
	req := map[string]any{"scope": []string{cloudScope}}
	status, body := f.postIAM(t, strings.ToUpper(writerSA), fed, req)
	if status != http.StatusOK {
		t.Fatalf("generateAccessToken: %d %v", status, body)
	}
	if call := lastCall(t, f.emu); call.ServiceAccount != writerSA {
		t.Fatalf("call records service account %q, want %q", call.ServiceAccount, writerSA)
	}
}

// TestConfigValidateMore checks three more configuration rules: provider names are
// unique, a workload identity pool provider lives in location global, and custom attribute
// names are lower case.
// Guards against: config.go:Validate duplicate provider check dropped
// Guards against: config.go:providerName any location accepted
// Guards against: config.go:attributeKey upper case accepted in attribute names
func TestConfigValidateMore(t *testing.T) {
	good := Provider{Name: testProvider, Issuer: "https://i"}
	regional := good
	regional.Name = strings.Replace(testProvider, "/global/", "/us-east1/", 1)
	upper := good
	upper.AttributeMapping = map[string]string{
		"google.subject": "assertion.sub", "attribute.Scope": "assertion.scope"}
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"duplicate provider": {Config{Providers: []Provider{good, good}}, "duplicate provider"},
		"regional provider":  {Config{Providers: []Provider{regional}}, "is not projects/"},
		"upper-case name":    {Config{Providers: []Provider{upper}}, `attribute "attribute.Scope"`},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want %q", name, err, tc.want)
		}
	}
}

// TestOnlyServesItsEndpoint checks that a handler from Only answers the other
// endpoint's path 404 NOT_FOUND.
// Guards against: emulator.go:serve Only restriction dropped
func TestOnlyServesItsEndpoint(t *testing.T) {
	f := newFixture(t)
	iamPath := "/v1/projects/-/serviceAccounts/" + writerSA + ":generateAccessToken"
	for endpoint, path := range map[string]string{EndpointSTS: iamPath, EndpointIAM: "/v1/token"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		f.emu.Only(endpoint).ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("Only(%s) POST %s: %d %s, want 404", endpoint, path, rec.Code, rec.Body)
		}
	}
}

// TestOnlyPostIsAllowed checks that any method but POST, not only GET, is answered 405
// with an Allow: POST header.
// Guards against: emulator.go:serve only GET refused
// Guards against: emulator.go:serve Allow header dropped
func TestOnlyPostIsAllowed(t *testing.T) {
	f := newFixture(t)
	for _, method := range []string{http.MethodPut, http.MethodGet} {
		rec := httptest.NewRecorder()
		f.emu.ServeHTTP(rec, httptest.NewRequest(method, "/v1/token", strings.NewReader("")))
		allow := rec.Header().Get("Allow")
		if rec.Code != http.StatusMethodNotAllowed || allow != http.MethodPost {
			t.Errorf("%s: %d Allow %q, want 405 Allow POST", method, rec.Code, allow)
		}
	}
}

// TestConflictFaultIsAborted checks that an injected 409 is answered with the
// google.rpc status ABORTED.
// Guards against: errors.go:rpcStatus 409 mapping dropped
func TestConflictFaultIsAborted(t *testing.T) {
	f := newFixture(t)
	f.emu.FailNext(1, http.StatusConflict)
	status, body := f.postSTS(t, stsForm("x"))
	if rs, _ := rpcErr(body); status != http.StatusConflict || rs != "ABORTED" {
		t.Fatalf("%d %v, want 409 ABORTED", status, body)
	}
}

// TestAccessTokenKeepsItsSubjectAndScopes checks that an access token's info names the
// google.subject of the federated identity that asked for it, and that the
// generateAccessToken call records the scopes requested.
// Guards against: iam.go:serveIAM TokenInfo.Subject left empty
// Guards against: iam.go:serveIAM call.Scopes not recorded
func TestAccessTokenKeepsItsSubjectAndScopes(t *testing.T) {
	f := newFixture(t)
	fed := f.federatedToken(t, "write")
	status, body := f.postIAM(t, writerSA, fed, map[string]any{"scope": []string{cloudScope}})
	if status != http.StatusOK {
		t.Fatalf("generateAccessToken: %d %v", status, body)
	}
	token, _ := body["accessToken"].(string)
	if info, live := f.emu.AccessTokenInfo(token); !live || info.Subject != writeSub {
		t.Errorf("token info %+v live=%v, want subject %q", info, live, writeSub)
	}
	if call := lastCall(t, f.emu); len(call.Scopes) != 1 || call.Scopes[0] != cloudScope {
		t.Errorf("call records scopes %v, want [%s]", call.Scopes, cloudScope)
	}
}

// TestSTSTokenExpiredAtTheEpochIsStale checks that a subject token whose exp is 0 (the
// epoch, long past) is described as stale: an exp of 0 is a time, not an absent claim.
// Guards against: sts.go:describe reading an exp of 0 as no exp ("not yet valid")
func TestSTSTokenExpiredAtTheEpochIsStale(t *testing.T) {
	f, _ := stillFixture(t)
	tok := signedSubject(t, f, map[string]any{"iat": -60, "exp": 0})
	status, body := f.postSTS(t, stsForm(tok))
	desc, _ := body["error_description"].(string)
	if status != http.StatusBadRequest || desc != "ID Token issued at -60 is stale to sign-in." {
		t.Fatalf("%d %v, want 400 invalid_grant naming a stale token issued at -60", status, body)
	}
}
