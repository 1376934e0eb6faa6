package azureemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestDuplicatedParameterRefused checks that a token request giving any form parameter more
// than once is refused with AADSTS9000411 naming it, before any other check: whatever the
// parameter, whether or not the values agree, and even when the request is wrong otherwise.
func TestDuplicatedParameterRefused(t *testing.T) {
	f := newFixture(t)
	good := f.assertion(t, oidctest.Token{})
	rogue := f.assertion(t, oidctest.Token{Rogue: true})
	cases := []struct {
		name  string
		form  func() url.Values
		param string // the parameter the description names
	}{
		{
			name:  "client_assertion, the second signed by an unpublished key",
			form:  func() url.Values { return withExtra(goodForm(good), "client_assertion", rogue) },
			param: "client_assertion",
		},
		{
			name:  "client_assertion, the same value twice",
			form:  func() url.Values { return withExtra(goodForm(good), "client_assertion", good) },
			param: "client_assertion",
		},
		{
			name: "client_assertion_type, the second saml2-bearer",
			form: func() url.Values {
				return withExtra(goodForm(good), "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			},
			param: "client_assertion_type",
		},
		{
			name:  "grant_type, the second password",
			form:  func() url.Values { return withExtra(goodForm(good), "grant_type", "password") },
			param: "grant_type",
		},
		{
			name:  "scope, the second another resource",
			form:  func() url.Values { return withExtra(goodForm(good), "scope", "https://graph.microsoft.com/.default") },
			param: "scope",
		},
		{
			name: "client_id, the second an unknown application",
			form: func() url.Values {
				return withExtra(goodForm(good), "client_id", "99999999-2222-3333-4444-555555555555")
			},
			param: "client_id",
		},
		{
			name:  "client_info, a parameter the emulator does not read",
			form:  func() url.Values { return withExtra(goodForm(good), "client_info", "1") },
			param: "client_info",
		},
		{
			name:  "an unknown parameter, both values empty",
			form:  func() url.Values { v := goodForm(good); v["x-unknown"] = []string{"", ""}; return v },
			param: "x-unknown",
		},
		{
			name: "scope, the first empty: the duplicate is reported, not the missing scope",
			form: func() url.Values {
				v := goodForm(good)
				v["scope"] = []string{"", scope}
				return v
			},
			param: "scope",
		},
		{
			name: "grant_type, with no assertion at all: the duplicate is reported first",
			form: func() url.Values {
				v := withExtra(goodForm(good), "grant_type", "client_credentials")
				v.Del("client_assertion")
				v.Del("client_assertion_type")
				return v
			},
			param: "grant_type",
		},
		{
			name: "scope and client_assertion: the first by name is reported",
			form: func() url.Values {
				return withExtra(withExtra(goodForm(good), "scope", scope), "client_assertion", good)
			},
			param: "client_assertion",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, body := f.post(t, tenantID, tc.form())
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %v", rec.Code, body)
			}
			checkRefusal(t, body, wantRefusal{oauthErr: "invalid_request", code: 9000411})
			checkDescriptionStarts(t, body,
				"AADSTS9000411: The request is not properly formatted. The parameter '"+tc.param+"' is duplicated.")
		})
	}
}

// TestDuplicatedParameterRecordedBeforeOtherChecks checks that the refused call is recorded
// with outcome AADSTS9000411 and nothing read from the form.
func TestDuplicatedParameterRecordedBeforeOtherChecks(t *testing.T) {
	f := newFixture(t)
	f.post(t, tenantID, withExtra(goodForm(f.assertion(t, oidctest.Token{})), "client_id", clientID))
	calls := f.emu.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	want := Call{Path: "/" + tenantID + "/oauth2/v2.0/token", Tenant: tenantID, Status: 400, Outcome: "AADSTS9000411"}
	if calls[0] != want {
		t.Errorf("call %+v, want %+v", calls[0], want)
	}
}

// TestScopeMustNameResource checks that a /.default scope with no resource before it is refused
// with invalid_scope AADSTS70011 rather than answered with a token whose aud is empty.
func TestScopeMustNameResource(t *testing.T) {
	f := newFixture(t)
	good := f.assertion(t, oidctest.Token{})
	cases := []struct {
		name   string
		scope  string
		status int
	}{
		{name: "only /.default", scope: "/.default", status: http.StatusBadRequest},
		{name: "/.default after the OIDC scopes", scope: "openid offline_access profile /.default", status: http.StatusBadRequest},
		{name: "/.default before the OIDC scopes", scope: "/.default openid", status: http.StatusBadRequest},
		{name: "a resource before /.default", scope: scope + " openid", status: http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := goodForm(good)
			form.Set("scope", tc.scope)
			rec, body := f.post(t, tenantID, form)
			if rec.Code != tc.status {
				t.Fatalf("scope %q: status %d, want %d: %v", tc.scope, rec.Code, tc.status, body)
			}
			if tc.status == http.StatusOK {
				checkSuccess(t, body)
				return
			}
			checkRefusal(t, body, wantRefusal{oauthErr: "invalid_scope", code: 70011})
			checkDescriptionStarts(t, body, "AADSTS70011: The provided value for the input parameter 'scope' is not valid.")
		})
	}
}

// checkDescriptionStarts checks that body's error_description begins with prefix.
func checkDescriptionStarts(t *testing.T, body map[string]any, prefix string) {
	t.Helper()
	if desc, _ := body["error_description"].(string); !strings.HasPrefix(desc, prefix) {
		t.Errorf("error_description %q, want prefix %q", desc, prefix)
	}
}

// withExtra returns v with value added to param after the values it already has.
func withExtra(v url.Values, param, value string) url.Values {
	v.Add(param, value)
	return v
}
