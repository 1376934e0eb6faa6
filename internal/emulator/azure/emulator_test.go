package azureemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

const (
	tenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	clientID = "11111111-2222-3333-4444-555555555555"
	subject  = "space:root:stack:vpc:run_type:TRACKED:scope:write"
	scope    = "https://management.azure.com/.default"
)

type fixture struct {
	iss *oidctest.Issuer
	emu *Emulator
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	iss := oidctest.Start(t)
	emu := New(Config{
		Host: "https://login.example.test",
		Apps: []App{{
			TenantID: tenantID,
			ClientID: clientID,
			Federated: []FederatedCredential{
				{Issuer: iss.URL, Subject: subject},
				{Issuer: "http://127.0.0.1:1", Subject: subject}, // an issuer nobody serves
			},
		}},
	})
	return &fixture{iss: iss, emu: emu}
}

// assertion signs a token that is good unless tok overrides something.
func (f *fixture) assertion(t *testing.T, tok oidctest.Token) string {
	t.Helper()
	claims := map[string]any{"sub": subject, "aud": DefaultAudience}
	for k, v := range tok.Claims {
		claims[k] = v
	}
	tok.Claims = claims
	return f.iss.Sign(t, tok)
}

func goodForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"scope":                 {scope + " openid offline_access profile"},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {assertion},
		"client_info":           {"1"},
	}
}

func (f *fixture) post(t *testing.T, tenant string, form url.Values) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	f.emu.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
	}
	return rec, body
}

func TestTokenEndpoint(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name      string
		tenant    string
		form      func(t *testing.T) url.Values
		status    int
		oauthErr  string
		code      int
		inMessage string
	}{
		{name: "good", form: func(t *testing.T) url.Values { return goodForm(f.assertion(t, oidctest.Token{})) }, status: 200},
		{
			name: "wrong subject",
			form: func(t *testing.T) url.Values {
				return goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"sub": "other"}}))
			},
			status: 400, oauthErr: "invalid_request", code: 70021,
			inMessage: "No matching federated identity record found for presented assertion. Assertion Issuer: '" + f.iss.URL +
				"'. Assertion Subject: 'other'. Assertion Audience: 'api://AzureADTokenExchange'.",
		},
		{
			name: "wrong issuer",
			form: func(t *testing.T) url.Values {
				return goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"iss": f.iss.URL + "/"}}))
			},
			status: 401, oauthErr: "invalid_client", code: 700211, inMessage: "presented assertion issuer '" + f.iss.URL + "/'",
		},
		{
			name: "wrong audience",
			form: func(t *testing.T) url.Values {
				return goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"aud": "sts.amazonaws.com"}}))
			},
			status: 401, oauthErr: "invalid_client", code: 700212, inMessage: "audience 'sts.amazonaws.com'",
		},
		{
			name:   "expired",
			form:   func(t *testing.T) url.Values { return goodForm(f.assertion(t, oidctest.Token{ExpiresIn: -time.Hour})) },
			status: 401, oauthErr: "invalid_client", code: 700024, inMessage: "Client assertion is not within its valid time range.",
		},
		{
			name:   "rogue key",
			form:   func(t *testing.T) url.Values { return goodForm(f.assertion(t, oidctest.Token{Rogue: true})) },
			status: 401, oauthErr: "invalid_client", code: 700027, inMessage: "Client assertion failed signature validation.",
		},
		{
			name:   "ES256 refused",
			form:   func(t *testing.T) url.Values { return goodForm(f.assertion(t, oidctest.Token{Alg: "ES256"})) },
			status: 401, oauthErr: "invalid_client", code: 700027, inMessage: "RS256",
		},
		{
			name: "a good assertion in the JWS JSON serialization",
			form: func(t *testing.T) url.Values {
				general, _ := oidctest.JSONSerialized(t, f.assertion(t, oidctest.Token{}))
				return goodForm(general)
			},
			status: 400, oauthErr: "invalid_request", code: 50027, inMessage: "JWT token is invalid or malformed.",
		},
		{
			name:   "malformed",
			form:   func(t *testing.T) url.Values { return goodForm("not-a.jwt") },
			status: 400, oauthErr: "invalid_request", code: 50027, inMessage: "JWT token is invalid or malformed.",
		},
		{
			name: "issuer discovery fails",
			form: func(t *testing.T) url.Values {
				return goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"iss": "http://127.0.0.1:1"}}))
			},
			status: 400, oauthErr: "invalid_request", code: 50166, inMessage: "Request to External OIDC endpoint failed.",
		},
		{
			name: "unknown client",
			form: func(t *testing.T) url.Values {
				v := goodForm(f.assertion(t, oidctest.Token{}))
				v.Set("client_id", "99999999-2222-3333-4444-555555555555")
				return v
			},
			status: 400, oauthErr: "unauthorized_client", code: 700016,
			inMessage: "Application with identifier '99999999-2222-3333-4444-555555555555' was not found in the directory",
		},
		{
			name: "scope without /.default",
			form: func(t *testing.T) url.Values {
				v := goodForm(f.assertion(t, oidctest.Token{}))
				v.Set("scope", "https://management.azure.com/user_impersonation openid")
				return v
			},
			status: 400, oauthErr: "invalid_scope", code: 70011, inMessage: "/.default",
		},
		{
			name: "two resources",
			form: func(t *testing.T) url.Values {
				v := goodForm(f.assertion(t, oidctest.Token{}))
				v.Set("scope", scope+" https://graph.microsoft.com/.default")
				return v
			},
			status: 400, oauthErr: "invalid_scope", code: 700022,
		},
		{
			name:   "unknown tenant",
			tenant: "00000000-0000-0000-0000-000000000000",
			form:   func(t *testing.T) url.Values { return goodForm(f.assertion(t, oidctest.Token{})) },
			status: 400, oauthErr: "invalid_request", code: 90002, inMessage: "Tenant '00000000-0000-0000-0000-000000000000' not found.",
		},
		{
			name: "wrong assertion type",
			form: func(t *testing.T) url.Values {
				v := goodForm(f.assertion(t, oidctest.Token{}))
				v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
				return v
			},
			status: 400, oauthErr: "invalid_request", code: 90011,
		},
		{
			name: "no assertion",
			form: func(t *testing.T) url.Values {
				v := goodForm("")
				v.Del("client_assertion")
				v.Del("client_assertion_type")
				return v
			},
			status: 401, oauthErr: "invalid_client", code: 7000218,
		},
		{
			name: "wrong grant type",
			form: func(t *testing.T) url.Values {
				v := goodForm(f.assertion(t, oidctest.Token{}))
				v.Set("grant_type", "password")
				return v
			},
			status: 400, oauthErr: "unsupported_grant_type", code: 70003,
		},
		{
			name: "missing scope",
			form: func(t *testing.T) url.Values {
				v := goodForm(f.assertion(t, oidctest.Token{}))
				v.Del("scope")
				return v
			},
			status: 400, oauthErr: "invalid_request", code: 900144, inMessage: "'scope'",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tenant := tc.tenant
			if tenant == "" {
				tenant = tenantID
			}
			rec, body := f.post(t, tenant, tc.form(t))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %v", rec.Code, tc.status, body)
			}
			if tc.status == http.StatusOK {
				checkSuccess(t, body)
				return
			}
			checkRefusal(t, body, wantRefusal{oauthErr: tc.oauthErr, code: tc.code, inMessage: tc.inMessage})
		})
	}
}

func checkSuccess(t *testing.T, body map[string]any) {
	t.Helper()
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(3599) || body["ext_expires_in"] != float64(3599) {
		t.Fatalf("success body %v", body)
	}
	at, _ := body["access_token"].(string)
	parts := strings.Split(at, ".")
	if len(parts) != 3 || !strings.HasPrefix(at, "eyJ") {
		t.Fatalf("access token %q is not JWT-shaped", at)
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		t.Fatal(err)
	}
	if claims["aud"] != "https://management.azure.com" || claims["tid"] != tenantID || claims["appid"] != clientID {
		t.Fatalf("access token claims %v", claims)
	}
}

// wantRefusal is the Entra error answer a test expects: the OAuth error, the AADSTS code, and
// a fragment of the description (empty: no particular text).
type wantRefusal struct {
	oauthErr  string
	code      int
	inMessage string
}

// checkRefusal checks that body is Entra's error document for want: its error and single error
// code, a description that starts "AADSTS<code>: ", holds want.inMessage and names a trace id,
// a correlation id and a timestamp, and non-empty timestamp, trace_id, correlation_id and
// error_uri fields.
func checkRefusal(t *testing.T, body map[string]any, want wantRefusal) {
	t.Helper()
	if body["error"] != want.oauthErr {
		t.Errorf("error %v, want %s", body["error"], want.oauthErr)
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != float64(want.code) {
		t.Errorf("error_codes %v, want [%d]", body["error_codes"], want.code)
	}
	desc, _ := body["error_description"].(string)
	prefix := "AADSTS" + jsonNumber(want.code) + ": "
	if !strings.HasPrefix(desc, prefix) || !strings.Contains(desc, want.inMessage) {
		t.Errorf("error_description %q, want prefix %q containing %q", desc, prefix, want.inMessage)
	}
	for _, part := range []string{" Trace ID: ", " Correlation ID: ", " Timestamp: "} {
		if !strings.Contains(desc, part) {
			t.Errorf("error_description %q lacks %q", desc, part)
		}
	}
	for _, field := range []string{"timestamp", "trace_id", "correlation_id", "error_uri"} {
		if s, _ := body[field].(string); s == "" {
			t.Errorf("no %s in %v", field, body)
		}
	}
}

func jsonNumber(n int) string {
	data, _ := json.Marshal(n)
	return string(data)
}

func TestCallsRecordTheRequest(t *testing.T) {
	f := newFixture(t)
	f.post(t, tenantID, goodForm(f.assertion(t, oidctest.Token{Claims: map[string]any{"sub": "intruder"}})))
	f.post(t, tenantID, goodForm(f.assertion(t, oidctest.Token{})))
	calls := f.emu.Calls()
	if len(calls) != 2 {
		t.Fatalf("calls %+v", calls)
	}
	want := Call{Path: "/" + tenantID + "/oauth2/v2.0/token", Tenant: tenantID, ClientID: clientID, Scope: scope,
		Subject: "intruder", Issuer: f.iss.URL, Audience: DefaultAudience, Status: 400, Outcome: "AADSTS70021"}
	if calls[0] != want {
		t.Errorf("refused call %+v, want %+v", calls[0], want)
	}
	want.Subject, want.Status, want.Outcome = subject, 200, "ok"
	if calls[1] != want {
		t.Errorf("good call %+v, want %+v", calls[1], want)
	}
}

func TestFailNext(t *testing.T) {
	f := newFixture(t)
	f.emu.FailNext(2, http.StatusServiceUnavailable)
	form := goodForm(f.assertion(t, oidctest.Token{}))
	for i := range 2 {
		rec, body := f.post(t, tenantID, form)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("attempt %d: status %d", i, rec.Code)
		}
		checkRefusal(t, body, wantRefusal{oauthErr: "temporarily_unavailable", code: 50033, inMessage: "transient"})
	}
	f.emu.FailNext(1, http.StatusTooManyRequests)
	if rec, body := f.post(t, tenantID, form); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d: %v", rec.Code, body)
	}
	if rec, body := f.post(t, tenantID, form); rec.Code != http.StatusOK {
		t.Fatalf("after the failures: status %d: %v", rec.Code, body)
	}
}

func TestTokenEndpointRefusesGet(t *testing.T) {
	f := newFixture(t)
	rec, body := f.get(t, "/"+tenantID+"/oauth2/v2.0/token")
	if rec.Code != 400 {
		t.Fatalf("status %d", rec.Code)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 900561, inMessage: "only accepts POST"})
}
