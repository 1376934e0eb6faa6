package azureemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestFormValueRefused checks form values Entra refuses, each with no token issued: the
// grant_type client_credentials in another case is an unsupported grant type (400
// unsupported_grant_type 70003), and a client-credentials scope must end in "/.default", so a
// resource that merely ends in ".default" with no slash before it is 400 invalid_scope 70011.
// Guards against: token.go:grant_type compared with strings.EqualFold
// Guards against: token.go:resourceScope suffix "/.default" shortened to ".default"
func TestFormValueRefused(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		field, value string
		want         wantRefusal
	}{
		{"grant_type", "Client_Credentials", wantRefusal{oauthErr: "unsupported_grant_type", code: 70003}},
		{"scope", "https://management.azure.com.default", wantRefusal{oauthErr: "invalid_scope", code: 70011}},
	} {
		form := goodForm(f.assertion(t, oidctest.Token{}))
		form.Set(c.field, c.value)
		rec, body := f.post(t, tenantID, form)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%s=%s: status %d, want 400: %v", c.field, c.value, rec.Code, body)
		}
		checkRefusal(t, body, c.want)
	}
}

// TestEmptyParameterIsMissing checks that a required parameter sent with an empty value
// counts as missing (400 invalid_request 900144 naming it), for scope as for the others.
// Guards against: token.go:checkRequest required check f.Get(p) == "" replaced by !f.Has(p)
func TestEmptyParameterIsMissing(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"grant_type", "client_id", "scope"} {
		form := goodForm(f.assertion(t, oidctest.Token{}))
		form.Set(p, "")
		rec, body := f.post(t, tenantID, form)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("%s empty: status %d, want 400: %v", p, rec.Code, body)
		}
		want := wantRefusal{oauthErr: "invalid_request", code: 900144, inMessage: "'" + p + "'"}
		checkRefusal(t, body, want)
	}
}

// TestAssertionOfFourSegmentsIsMalformed checks that an assertion that is not exactly
// three dot-separated segments is malformed (400 invalid_request 50027) before its issuer is
// looked at, even when its first segments decode and name an issuer nobody trusts.
// Guards against: assertion.go:peekClaims "len(parts) != 3" -> "len(parts) < 3"
func TestAssertionOfFourSegmentsIsMalformed(t *testing.T) {
	f := newFixture(t)
	claims := map[string]any{"iss": "https://untrusted.example"}
	tok := f.assertion(t, oidctest.Token{Claims: claims})
	rec, body := f.post(t, tenantID, goodForm(tok+".extra"))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 50027})
}

// TestTimeRangeMessageSpelling checks the literal wording of the time-range refusal
// (700024): instants are UTC with seven fractional digits, and an assertion whose nbf is
// null (no date) is "valid from" the Unix epoch.
// Guards against: assertion.go:entraInstant fractional digits dropped
// Guards against: assertion.go:unix zero time.Time instead of the epoch for an absent claim
func TestTimeRangeMessageSpelling(t *testing.T) {
	now := time.Unix(2_000_000_000, 0)
	iss := oidctest.Start(t)
	f := &fixture{iss: iss, emu: New(Config{Host: "https://login.example.test",
		Now: func() time.Time { return now },
		Apps: []App{{TenantID: tenantID, ClientID: clientID,
			Federated: []FederatedCredential{{Issuer: iss.URL, Subject: subject}}}}})}
	tok := f.assertion(t, oidctest.Token{Claims: map[string]any{
		"iat": now.Add(-3 * time.Hour).Unix(), "nbf": nil, "exp": now.Add(-time.Hour).Unix()}})
	rec, body := f.post(t, tenantID, goodForm(tok))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_client", code: 700024,
		inMessage: "Current time: 2033-05-18T03:33:20.0000000Z, assertion valid from " +
			"1970-01-01T00:00:00.0000000Z, expiry time of assertion 2033-05-18T02:33:20.0000000Z."})
}

// TestErrorURIOnTheEmulatorsHost checks that error_uri names the emulator's own
// configured host, /error and the AADSTS code.
// Guards against: errors.go:writeRefusal error_uri on a fixed host instead of the emulator's
func TestErrorURIOnTheEmulatorsHost(t *testing.T) {
	f := newFixture(t)
	form := goodForm(f.assertion(t, oidctest.Token{}))
	form.Del("scope")
	_, body := f.post(t, tenantID, form)
	if want := "https://login.example.test/error?code=900144"; body["error_uri"] != want {
		t.Fatalf("error_uri %v, want %s", body["error_uri"], want)
	}
}

// TestDiscoveryWithoutAuthorizationEndpoint checks that instance discovery without an
// authorization_endpoint is a malformed request (400 invalid_request 50050), not an unknown
// instance.
// Guards against: discovery.go:instanceDiscovery empty authorization_endpoint check dropped
func TestDiscoveryWithoutAuthorizationEndpoint(t *testing.T) {
	f := newFixture(t)
	rec, body := f.get(t, "/common/discovery/instance?api-version=1.1")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 50050})
}

// TestDiscoveryHostIsCaseInsensitive checks that instance discovery compares the
// authorization endpoint's host with its own case-insensitively, as host names are.
// Guards against: discovery.go:discoveredTenant host compared with == instead of EqualFold
func TestDiscoveryHostIsCaseInsensitive(t *testing.T) {
	f := newFixture(t)
	ae := "https://LOGIN.Example.TEST/" + tenantID + "/oauth2/v2.0/authorize"
	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {ae}}
	rec, body := f.get(t, "/common/discovery/instance?"+q.Encode())
	want := "https://login.example.test/" + tenantID + "/v2.0/.well-known/openid-configuration"
	if rec.Code != http.StatusOK || body["tenant_discovery_endpoint"] != want {
		t.Fatalf("status %d body %v, want 200 naming %s", rec.Code, body, want)
	}
}

// TestMetadataUnderPrefix checks that tenant metadata served below a prefix names the
// token endpoint below that prefix too.
// Guards against: discovery.go:tenantMetadata token_endpoint built without the prefix
func TestMetadataUnderPrefix(t *testing.T) {
	f := newFixture(t)
	rec := httptest.NewRecorder()
	target := "/azure/" + tenantID + "/v2.0/.well-known/openid-configuration"
	f.emu.Under("/azure").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%d: %v: %s", rec.Code, err, rec.Body)
	}
	want := "https://login.example.test/azure/" + tenantID + "/oauth2/v2.0/token"
	if body["token_endpoint"] != want {
		t.Fatalf("token_endpoint %v, want %s", body["token_endpoint"], want)
	}
}

// TestUnderPrefixAloneIsNotFound checks that the bare prefix of an Under handler is
// answered 404, never redirected (a redirect to "/" would leave the prefix).
// Guards against: emulator.go:Under empty rest not turned into "/"
func TestUnderPrefixAloneIsNotFound(t *testing.T) {
	f := newFixture(t)
	rec := httptest.NewRecorder()
	f.emu.Under("/azure").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/azure", nil))
	if rec.Code != http.StatusNotFound {
		loc := rec.Header().Get("Location")
		t.Fatalf("GET /azure: status %d, want 404 (Location %q)", rec.Code, loc)
	}
}
