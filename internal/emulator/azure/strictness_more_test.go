package azureemu

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestTokenEndpointOnlyTakesPost pins that the token endpoint answers every method but
// POST, even with a good form in the body, with 400 invalid_request AADSTS900561.
// Guards against: PUT taken beside POST in token.go:token
func TestTokenEndpointOnlyTakesPost(t *testing.T) {
	f := newFixture(t)
	form := goodForm(f.assertion(t, oidctest.Token{})).Encode()
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			req := httptest.NewRequest(method, "/"+tenantID+"/oauth2/v2.0/token", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			f.emu.ServeHTTP(rec, req)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", rec.Code)
			}
			checkRefusal(t, decodeBody(t, rec), wantRefusal{oauthErr: "invalid_request", code: 900561, inMessage: "Received a " + method + " request."})
		})
	}
}

// TestAppWithoutFederatedCredentials pins that an application of the tenant that has no
// federated identity credential is found (it is not AADSTS700016) and its assertion is refused
// as from an issuer it does not trust: 401 invalid_client AADSTS700211.
// Guards against: apps without federated credentials not found in emulator.go:app
func TestAppWithoutFederatedCredentials(t *testing.T) {
	iss := oidctest.Start(t)
	f := &fixture{iss: iss, emu: New(Config{Host: "https://login.example.test", Apps: []App{{TenantID: tenantID, ClientID: clientID}}})}
	rec, body := f.post(t, tenantID, goodForm(f.assertion(t, oidctest.Token{})))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_client", code: 700211, inMessage: "issuer '" + iss.URL + "'"})
}

// TestHeaderMustDecodeBeforeIssuerLookup pins that an assertion whose header segment is
// not base64url JSON is malformed (400 AADSTS50027) even when its claims name an issuer no
// credential trusts: the JWT is parsed before any federated credential is looked up.
// Guards against: header decode error ignored in assertion.go:peekClaims
func TestHeaderMustDecodeBeforeIssuerLookup(t *testing.T) {
	f := newFixture(t)
	claims := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://untrusted.example","sub":"s","aud":"` + DefaultAudience + `"}`))
	for _, header := range []string{"!!!", base64.RawURLEncoding.EncodeToString([]byte("not json"))} {
		rec, body := f.post(t, tenantID, goodForm(header+"."+claims+".c2ln"))
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("header %q: status %d, want 400: %v", header, rec.Code, body)
		}
		checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 50027})
	}
}

// TestInstanceDiscoveryKeepsItsPrefix pins that, served under a path prefix, instance discovery
// knows only authorization endpoints below that prefix: the same host without the prefix is an
// unknown instance (400 invalid_instance AADSTS50049).
// Guards against: authorization endpoint outside the prefix read from the root in
// discovery.go:discoveredTenant
func TestInstanceDiscoveryKeepsItsPrefix(t *testing.T) {
	f := newFixture(t)
	h := f.emu.Under("/azure")
	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {"https://login.example.test/" + tenantID + "/oauth2/v2.0/authorize"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/azure/common/discovery/instance?"+q.Encode(), nil))
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
	}
	checkRefusal(t, decodeBody(t, rec), wantRefusal{oauthErr: "invalid_instance", code: 50049})
}

// TestRefusalHeadersAndTimestamp pins the shape of an Entra refusal beyond its body: a
// client-request-id that is a UUID is echoed in the client-request-id response header,
// x-ms-request-id is the trace id, and timestamp reads "YYYY-MM-DD hh:mm:ssZ".
// Guards against: client-request-id response header dropped in errors.go:writeRefusal
// Guards against: timestamp in RFC 3339 form (with T) in errors.go:entraTime
func TestRefusalHeadersAndTimestamp(t *testing.T) {
	f := newFixture(t)
	const given = "0f8fad5b-d9cb-469f-a165-70867728950e"
	req := httptest.NewRequest(http.MethodGet, "/"+tenantID+"/oauth2/v2.0/token", nil)
	req.Header.Set("client-request-id", given)
	rec := httptest.NewRecorder()
	f.emu.ServeHTTP(rec, req)
	body := decodeBody(t, rec)
	if got := rec.Header().Get("client-request-id"); got != given {
		t.Errorf("client-request-id header %q, want %q", got, given)
	}
	if got := rec.Header().Get("x-ms-request-id"); got == "" || got != body["trace_id"] {
		t.Errorf("x-ms-request-id %q, trace_id %v", got, body["trace_id"])
	}
	ts, _ := body["timestamp"].(string)
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$`).MatchString(ts) {
		t.Errorf("timestamp %q, want YYYY-MM-DD hh:mm:ssZ", ts)
	}
	if desc, _ := body["error_description"].(string); !strings.HasSuffix(desc, " Timestamp: "+ts) {
		t.Errorf("error_description %q does not end with the timestamp %q", desc, ts)
	}
}

// TestAssertionMustBeCanonicalJWT pins that an assertion is verified over the exact
// characters it was sent with: a good assertion with a line break inside its payload segment
// decodes to the signed claims but is not the signed JWS Signing Input, and Entra refuses it
// as a malformed JWT (AADSTS50027).
func TestAssertionMustBeCanonicalJWT(t *testing.T) {
	f := newFixture(t)
	parts := strings.Split(f.assertion(t, oidctest.Token{}), ".")
	bent := parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2]
	rec, body := f.post(t, tenantID, goodForm(bent))
	if codes, _ := body["error_codes"].([]any); rec.Code != http.StatusBadRequest || len(codes) != 1 || codes[0] != float64(50027) {
		t.Errorf("an assertion with a line break in its payload segment: %d %v, want 400 and AADSTS50027", rec.Code, body)
	}
}
