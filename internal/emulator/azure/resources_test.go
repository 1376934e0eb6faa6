package azureemu

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestUnknownResourceRefused: Entra issues a client-credentials token only for a resource that
// has a service principal in the tenant; any other <resource>/.default is refused with 400
// invalid_resource AADSTS500011 ("The resource principal named ... was not found in the tenant
// named ..."), so an integration whose scope is mistyped (management.azure.co) fails against
// the emulator as it does against Entra. The tenant's resources are read with or without
// their trailing slash, and Config.Resources adds others.
// Guards against: token.go:checkRequest a token minted for any <resource>/.default
func TestUnknownResourceRefused(t *testing.T) {
	f := newFixture(t)
	for _, s := range []string{"https://management.azure.co/.default", "https://no-such-resource.invalid/.default",
		"api://00000000-0000-0000-0000-000000000002/.default"} {
		form := goodForm(f.assertion(t, oidctest.Token{}))
		form.Set("scope", s)
		rec, body := f.post(t, tenantID, form)
		desc, _ := body["error_description"].(string)
		resource := strings.TrimSuffix(s, "/.default")
		if rec.Code != http.StatusBadRequest || body["error"] != "invalid_resource" ||
			!strings.HasPrefix(desc, "AADSTS500011: The resource principal named "+resource+" was not found in the tenant named "+tenantID+".") {
			t.Errorf("scope %q naming no resource of the tenant: %d %v %q; want 400 invalid_resource AADSTS500011", s, rec.Code, body["error"], desc)
		}
		if codes, _ := body["error_codes"].([]any); len(codes) != 1 || codes[0] != float64(500011) {
			t.Errorf("scope %q: error_codes %v, want [500011]", s, body["error_codes"])
		}
	}
	for _, s := range []string{"https://management.azure.com/.default", "https://management.azure.com//.default",
		"https://management.core.windows.net//.default", "https://graph.microsoft.com/.default", "https://vault.azure.net/.default",
		"https://storage.azure.com/.default", "https://database.windows.net//.default"} {
		form := goodForm(f.assertion(t, oidctest.Token{}))
		form.Set("scope", s)
		if rec, body := f.post(t, tenantID, form); rec.Code != http.StatusOK {
			t.Errorf("scope %q naming a resource of the tenant: %d %v, want 200", s, rec.Code, body)
		}
	}

	// A resource the configuration names is taken; the defaults then are not.
	const api = "api://00000000-0000-0000-0000-000000000002"
	iss := oidctest.Start(t)
	g := &fixture{iss: iss, emu: New(Config{Resources: []string{api + "/"}, Apps: []App{{TenantID: tenantID, ClientID: clientID,
		Federated: []FederatedCredential{{Issuer: iss.URL, Subject: subject}}}}})}
	for s, want := range map[string]int{api + "/.default": http.StatusOK, scope: http.StatusBadRequest} {
		form := goodForm(g.assertion(t, oidctest.Token{}))
		form.Set("scope", s)
		if rec, body := g.post(t, tenantID, form); rec.Code != want {
			t.Errorf("Resources [%s/], scope %q: %d %v, want %d", api, s, rec.Code, body, want)
		}
	}
}
