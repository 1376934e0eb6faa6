package azureemu

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestAppIsLookedUpInTheRequestedTenantOnly pins that an application registered in one
// tenant cannot get a token through another tenant's endpoint: Entra answers 400
// unauthorized_client AADSTS700016 ("not found in the directory").
// Guards against: internal/emulator/azure/emulator.go:193 app() dropping the tenant comparison
func TestAppIsLookedUpInTheRequestedTenantOnly(t *testing.T) {
	const otherTenant = "0b3c6d3e-1f2a-4b5c-8d9e-aaaaaaaaaaaa"
	iss := oidctest.Start(t)
	emu := New(Config{
		Host: "https://login.example.test",
		Apps: []App{
			{TenantID: tenantID, ClientID: clientID, Federated: []FederatedCredential{{Issuer: iss.URL, Subject: subject}}},
			{TenantID: otherTenant, ClientID: "99999999-2222-3333-4444-555555555555"},
		},
	})
	f := &fixture{iss: iss, emu: emu}
	good := f.assertion(t, oidctest.Token{})
	// Sanity: the app's own tenant issues a token.
	if rec, body := f.post(t, tenantID, goodForm(good)); rec.Code != http.StatusOK {
		t.Fatalf("own tenant: status %d, body %v", rec.Code, body)
	}
	rec, body := f.post(t, otherTenant, goodForm(good))
	if rec.Code != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Fatalf("app of tenant %s asked at tenant %s: status %d, body %v; want 400 unauthorized_client", tenantID, otherTenant, rec.Code, body)
	}
	if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(700016) {
		t.Errorf("error_codes = %v, want [700016]", body["error_codes"])
	}
}
