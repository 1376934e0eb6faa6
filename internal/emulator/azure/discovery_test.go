package azureemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func (f *fixture) get(t *testing.T, target string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.emu.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v: %s", target, err, rec.Body)
	}
	return rec, body
}

func TestTenantMetadata(t *testing.T) {
	f := newFixture(t)
	rec, body := f.get(t, "/"+strings.ToUpper(tenantID)+"/v2.0/.well-known/openid-configuration")
	if rec.Code != 200 {
		t.Fatalf("status %d: %v", rec.Code, body)
	}
	base := "https://login.example.test/" + tenantID
	for field, want := range map[string]string{
		"issuer":                 base + "/v2.0",
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"jwks_uri":               base + "/discovery/v2.0/keys",
	} {
		if body[field] != want {
			t.Errorf("%s = %v, want %s", field, body[field], want)
		}
	}
	rec, body = f.get(t, "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if rec.Code != 400 {
		t.Fatalf("unknown tenant: status %d", rec.Code)
	}
	checkRefusal(t, body, wantRefusal{oauthErr: "invalid_tenant", code: 90002, inMessage: "Tenant 'contoso.onmicrosoft.com' not found."})
}

func TestInstanceDiscovery(t *testing.T) {
	f := newFixture(t)
	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {"https://login.example.test/" + tenantID + "/oauth2/v2.0/authorize"}}
	rec, body := f.get(t, "/common/discovery/instance?"+q.Encode())
	if rec.Code != 200 {
		t.Fatalf("status %d: %v", rec.Code, body)
	}
	if want := "https://login.example.test/" + tenantID + "/v2.0/.well-known/openid-configuration"; body["tenant_discovery_endpoint"] != want {
		t.Errorf("tenant_discovery_endpoint %v, want %s", body["tenant_discovery_endpoint"], want)
	}
	md, _ := body["metadata"].([]any)
	if len(md) != 1 {
		t.Fatalf("metadata %v", body["metadata"])
	}
	if aliases := md[0].(map[string]any)["aliases"]; len(aliases.([]any)) != 1 || aliases.([]any)[0] != "login.example.test" {
		t.Errorf("aliases %v", aliases)
	}

	// Another host, and this host at http, are instances it does not know.
	for _, endpoint := range []string{"https://login.other.test/", "http://login.example.test/"} {
		q.Set("authorization_endpoint", endpoint+tenantID+"/oauth2/v2.0/authorize")
		rec, body = f.get(t, "/common/discovery/instance?"+q.Encode())
		if rec.Code != 400 {
			t.Fatalf("instance %s: status %d", endpoint, rec.Code)
		}
		checkRefusal(t, body, wantRefusal{oauthErr: "invalid_instance", code: 50049, inMessage: "Unknown or invalid instance."})
	}

	calls := f.emu.Calls()
	if len(calls) != 3 || calls[0].Tenant != tenantID || calls[0].Outcome != "ok" || calls[1].Outcome != "AADSTS50049" || calls[2].Outcome != "AADSTS50049" {
		t.Errorf("calls %+v", calls)
	}
}

func TestHostFromRequestWhenUnset(t *testing.T) {
	emu := New(Config{Apps: []App{{TenantID: tenantID, ClientID: clientID}}})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/"+tenantID+"/v2.0/.well-known/openid-configuration", nil)
	req.Host = "127.0.0.1:8443"
	emu.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if want := "https://127.0.0.1:8443/" + tenantID + "/v2.0"; body["issuer"] != want {
		t.Fatalf("issuer %v, want %s", body["issuer"], want)
	}
	emu.SetHost("https://login.example.test/")
	rec = httptest.NewRecorder()
	emu.ServeHTTP(rec, req)
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if want := "https://login.example.test/" + tenantID + "/v2.0"; body["issuer"] != want {
		t.Fatalf("after SetHost: issuer %v, want %s", body["issuer"], want)
	}
}

func TestUnderServesOnlyBelowItsPrefix(t *testing.T) {
	f := newFixture(t)
	h := f.emu.Under("/azure/")
	metadata := "/" + tenantID + "/v2.0/.well-known/openid-configuration"
	cases := []struct {
		path   string
		status int
		issuer string
	}{
		{"/azure" + metadata, 200, "https://login.example.test/azure/" + tenantID + "/v2.0"},
		{metadata, 404, ""},
		{"/azurex" + metadata, 404, ""},
		{"/other/azure" + metadata, 404, ""},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != c.status || (c.issuer != "" && body["issuer"] != c.issuer) {
			t.Errorf("GET %s: %d %v, want %d issuer %q", c.path, rec.Code, body, c.status, c.issuer)
		}
	}
	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {"https://login.example.test/azure/" + tenantID + "/oauth2/v2.0/authorize"}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/azure/common/discovery/instance?"+q.Encode(), nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if want := "https://login.example.test/azure/" + tenantID + "/v2.0/.well-known/openid-configuration"; body["tenant_discovery_endpoint"] != want {
		t.Errorf("instance discovery under /azure: %d %v, want tenant_discovery_endpoint %s", rec.Code, body, want)
	}
	// The emulator itself still serves the root, naming the origin.
	if _, body := f.get(t, metadata); body["issuer"] != "https://login.example.test/"+tenantID+"/v2.0" {
		t.Errorf("root issuer %v", body["issuer"])
	}
}
