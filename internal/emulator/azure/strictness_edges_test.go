package azureemu

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestAssertionRefusals pins Entra's answers to assertions that reach the federated
// credential checks: a subject differing only in case matches no credential (70021), a claim of
// the wrong type is malformed (50027) rather than out of its time range, a payload that is JSON
// null is malformed, and client_assertion_type without a client_assertion is a missing parameter.
// Guards against: subject compared case-insensitively in assertion.go:checkAssertion
// Guards against: ErrMalformed mapped to 700024 in assertion.go:verifyRefusal
// Guards against: null claims not refused in assertion.go:peekClaims
// Guards against: empty client_assertion check dropped in token.go:checkRequest
func TestAssertionRefusals(t *testing.T) {
	f := newFixture(t)
	nullPayload := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte("null")) + ".c2ln"
	cases := []struct {
		name     string
		form     func(t *testing.T) url.Values
		status   int
		oauthErr string
		code     int
	}{
		{"subject in upper case", func(t *testing.T) url.Values {
			return goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"sub": strings.ToUpper(subject)}}))
		}, 400, "invalid_request", 70021},
		{"exp a string", func(t *testing.T) url.Values {
			return goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"exp": "later"}}))
		}, 400, "invalid_request", 50027},
		{"payload null", func(t *testing.T) url.Values { return goodForm(nullPayload) }, 400, "invalid_request", 50027},
		{"client_assertion empty beside its type", func(t *testing.T) url.Values { return goodForm("") }, 400, "invalid_request", 900144},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, body := f.post(t, tenantID, tc.form(t))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %v", rec.Code, tc.status, body)
			}
			checkRefusal(t, body, wantRefusal{oauthErr: tc.oauthErr, code: tc.code})
		})
	}
}

// TestNonHTTPSCredentialIssuer pins that a federated credential whose issuer is neither
// https nor loopback http is answered like an unknown issuer (401 invalid_client 700211), not as
// a malformed token.
// Guards against: ErrIssuer mapping dropped in assertion.go:verifyRefusal
func TestNonHTTPSCredentialIssuer(t *testing.T) {
	const plain = "http://issuer.example"
	iss := oidctest.Start(t)
	f := &fixture{iss: iss, emu: New(Config{Host: "https://login.example.test", Apps: []App{{TenantID: tenantID, ClientID: clientID,
		Federated: []FederatedCredential{{Issuer: plain, Subject: subject}}}}})}
	rec, body := f.post(t, tenantID, goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"iss": plain}})))
	if rec.Code != 401 {
		t.Fatalf("status %d, want 401: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_client", code: 700211, inMessage: "issuer '" + plain + "'"})
}

// TestAudienceListAndClientIDCase pins that an assertion's several audiences are named
// space-separated in the 70021 description and in the recorded call, and that client_id, a GUID,
// matches its application whatever its case.
// Guards against: audiences joined with a comma in assertion.go:checkAssertion
// Guards against: client_id compared case-sensitively in emulator.go:app
func TestAudienceListAndClientIDCase(t *testing.T) {
	f := newFixture(t)
	tok := f.assertion(t, oidctest.Token{Claims: map[string]any{"sub": "other", "aud": []string{"api://x", DefaultAudience}}})
	rec, body := f.post(t, tenantID, goodForm(tok))
	if rec.Code != 400 {
		t.Fatalf("status %d: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 70021, inMessage: "Assertion Audience: 'api://x " + DefaultAudience + "'."})
	if calls := f.emu.Calls(); len(calls) != 1 || calls[0].Audience != "api://x "+DefaultAudience {
		t.Errorf("calls %+v", calls)
	}
	const lettered = "abcdef01-2222-3333-4444-55555555abcd"
	g := &fixture{iss: f.iss, emu: New(Config{Host: "https://login.example.test", Apps: []App{{TenantID: tenantID, ClientID: lettered,
		Federated: []FederatedCredential{{Issuer: f.iss.URL, Subject: subject}}}}})}
	form := goodForm(g.assertion(t, oidctest.Token{}))
	form.Set("client_id", strings.ToUpper(lettered))
	if rec, body := g.post(t, tenantID, form); rec.Code != 200 {
		t.Fatalf("upper-case client_id: status %d: %v", rec.Code, body)
	}
}

// TestFormStrictness pins how the form is read: only the body counts (parameters in the
// query string are not read), a body over 1 MiB or one that does not decode is refused with
// 90004, and a scope must end in /.default, not merely contain it.
// Guards against: r.Form read instead of r.PostForm in token.go:checkRequest
// Guards against: MaxBytesReader dropped in token.go:token
// Guards against: ParseForm error ignored in token.go:token
// Guards against: /.default matched anywhere in token.go:resourceScope
func TestFormStrictness(t *testing.T) {
	f := newFixture(t)
	good := goodForm(f.assertion(t, oidctest.Token{}))
	send := func(t *testing.T, query, body string) (*httptest.ResponseRecorder, map[string]any) {
		t.Helper()
		target := "/" + tenantID + "/oauth2/v2.0/token"
		if query != "" {
			target += "?" + query
		}
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		f.emu.ServeHTTP(rec, req)
		return rec, decodeBody(t, rec)
	}
	t.Run("parameters in the query", func(t *testing.T) {
		rec, body := send(t, good.Encode(), "")
		if rec.Code != 400 {
			t.Fatalf("status %d: %v", rec.Code, body)
		}
		checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 900144, inMessage: "'grant_type'"})
	})
	t.Run("body over 1 MiB", func(t *testing.T) {
		big := good.Encode() + "&pad=" + strings.Repeat("x", 1<<20)
		rec, body := send(t, "", big)
		if rec.Code != 400 {
			t.Fatalf("status %d: %v", rec.Code, body)
		}
		checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 90004})
	})
	t.Run("body that does not decode", func(t *testing.T) {
		rec, body := send(t, "", good.Encode()+"&bad=%zz")
		if rec.Code != 400 {
			t.Fatalf("status %d: %v", rec.Code, body)
		}
		checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 90004})
	})
	t.Run("scope with text after /.default", func(t *testing.T) {
		form := goodForm(f.assertion(t, oidctest.Token{}))
		form.Set("scope", scope+"/more")
		rec, body := f.post(t, tenantID, form)
		if rec.Code != 400 {
			t.Fatalf("status %d: %v", rec.Code, body)
		}
		checkRefusal(t, body, wantRefusal{oauthErr: "invalid_scope", code: 70011})
	})
}

// decodeBody decodes a JSON answer.
func decodeBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	return body
}

// TestConfiguredClock pins that Config.Now is the clock of the whole emulator: an
// assertion valid at that instant (far from the wall clock) is taken, the access token's iat and
// nbf are that instant and its exp 3599 s later with iss https://sts.windows.net/<tenant>/, and
// an assertion expired at that instant is refused naming its nbf as "valid from".
// Guards against: default verifier ignoring Config.Now in emulator.go:New
// Guards against: access token lifetime changed in token.go:accessToken
// Guards against: access token iss without its trailing slash in token.go:accessToken
// Guards against: time-range message naming iat instead of nbf in assertion.go:verifyRefusal
func TestConfiguredClock(t *testing.T) {
	now := time.Unix(2_000_000_000, 0)
	iss := oidctest.Start(t)
	f := &fixture{iss: iss, emu: New(Config{Host: "https://login.example.test", Now: func() time.Time { return now },
		Apps: []App{{TenantID: tenantID, ClientID: clientID, Federated: []FederatedCredential{{Issuer: iss.URL, Subject: subject}}}}})}
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	rec, body := f.post(t, tenantID, goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"iat": at(0), "nbf": at(0), "exp": at(10 * time.Minute)}})))
	if rec.Code != 200 {
		t.Fatalf("status %d: %v", rec.Code, body)
	}
	at2, _ := body["access_token"].(string)
	var claims map[string]any
	if parts := strings.Split(at2, "."); len(parts) != 3 || decodeSegment(parts[1], &claims) != nil {
		t.Fatalf("access token %q", at2)
	}
	if claims["iat"] != float64(at(0)) || claims["nbf"] != float64(at(0)) || claims["exp"] != float64(at(3599*time.Second)) ||
		claims["iss"] != "https://sts.windows.net/"+tenantID+"/" {
		t.Errorf("access token claims %v", claims)
	}
	nbf := now.Add(-2 * time.Hour)
	expired := f.assertion(t, oidctest.Token{Claims: map[string]any{"iat": at(-3 * time.Hour), "nbf": nbf.Unix(), "exp": at(-time.Hour)}})
	rec, body = f.post(t, tenantID, goodForm(expired))
	if rec.Code != 401 {
		t.Fatalf("expired: status %d: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_client", code: 700024,
		inMessage: "Current time: " + entraInstant(now) + ", assertion valid from " + entraInstant(nbf) + ", expiry time of assertion " + entraInstant(now.Add(-time.Hour))})
}

// TestDiscoveryEdges pins that the keys endpoint answers only known tenants (400
// invalid_tenant 90002) and that instance discovery refuses an authorization endpoint naming no
// tenant (50049).
// Guards against: tenant check dropped in discovery.go:keys
// Guards against: empty tenant taken in discovery.go:discoveredTenant
func TestDiscoveryEdges(t *testing.T) {
	f := newFixture(t)
	rec, body := f.get(t, "/00000000-0000-0000-0000-000000000000/discovery/v2.0/keys")
	if rec.Code != 400 {
		t.Fatalf("keys of an unknown tenant: status %d: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_tenant", code: 90002})
	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {"https://login.example.test/"}}
	rec, body = f.get(t, "/common/discovery/instance?"+q.Encode())
	if rec.Code != 400 {
		t.Fatalf("endpoint without tenant: status %d: %v", rec.Code, body)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_instance", code: 50049})
}

// TestCorrelationID pins that a client-request-id is echoed as the correlation id only
// when it is a UUID; anything else is replaced by a fresh version 4 UUID, as trace ids are.
// Guards against: any client-request-id echoed in errors.go:writeRefusal
// Guards against: version bits not set in errors.go:newUUID
func TestCorrelationID(t *testing.T) {
	f := newFixture(t)
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	const given = "0f8fad5b-d9cb-469f-a165-70867728950e"
	for _, tc := range []struct{ header, want string }{{given, given}, {"not-a-uuid", ""}, {"x", ""}} {
		req := httptest.NewRequest(http.MethodGet, "/"+tenantID+"/oauth2/v2.0/token", nil)
		req.Header.Set("client-request-id", tc.header)
		rec := httptest.NewRecorder()
		f.emu.ServeHTTP(rec, req)
		body := decodeBody(t, rec)
		corr, _ := body["correlation_id"].(string)
		if tc.want != "" && corr != tc.want || tc.want == "" && !v4.MatchString(corr) {
			t.Errorf("client-request-id %q: correlation_id %q", tc.header, corr)
		}
		if trace, _ := body["trace_id"].(string); !v4.MatchString(trace) {
			t.Errorf("trace_id %q is not a version 4 UUID", trace)
		}
	}
}
