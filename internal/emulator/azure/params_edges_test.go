package azureemu

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestTokenRequestParameterRefusals pins refusals of the token endpoint's parameters:
// a request without client_id is refused as a missing parameter (AADSTS900144) before any app
// lookup; a scope made only of OIDC scopes names no resource and is refused with invalid_scope
// (the handler must not crash); the /common authority takes no client credentials request.
// Guards against: client_id dropped from the required parameters in token.go:checkRequest
// Guards against: the "no resource" case dropped in token.go:resourceScope (index out of range)
// Guards against: tenant lookup accepting "common" in emulator.go:tenant
func TestTokenRequestParameterRefusals(t *testing.T) {
	f := newFixture(t)
	good := f.assertion(t, oidctest.Token{})
	for _, tc := range []struct {
		name   string
		tenant string
		param  string
		value  string
		status int
		want   wantRefusal
	}{
		{"no client_id", tenantID, "client_id", "", http.StatusBadRequest,
			wantRefusal{"invalid_request", 900144, "'client_id'"}},
		{"only OIDC scopes", tenantID, "scope", "openid profile offline_access", http.StatusBadRequest,
			wantRefusal{"invalid_scope", 70011, "openid profile offline_access"}},
		{"common authority", "common", "", "", http.StatusBadRequest,
			wantRefusal{"invalid_request", 90002, "Tenant 'common' not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := goodForm(good)
			if tc.param != "" {
				if tc.value == "" {
					form.Del(tc.param)
				} else {
					form.Set(tc.param, tc.value)
				}
			}
			rec, body := f.post(t, tc.tenant, form)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %v", rec.Code, tc.status, body)
			}
			checkRefusal(t, body, tc.want)
			if _, ok := body["access_token"]; ok {
				t.Fatalf("refusal carries an access token: %v", body)
			}
		})
	}
}

// TestTokenAnswerIsNotCached pins that the token endpoint's success answer, which carries
// an access token, says Cache-Control: no-store.
// Guards against: Cache-Control header dropped in errors.go:writeJSON
func TestTokenAnswerIsNotCached(t *testing.T) {
	f := newFixture(t)
	rec, body := f.post(t, tenantID, goodForm(f.assertion(t, oidctest.Token{})))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %v", rec.Code, body["error"])
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("Cache-Control %q, want no-store", cc)
	}
}
