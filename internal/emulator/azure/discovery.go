package azureemu

import (
	"net/http"
	"net/url"
	"strings"
)

// instanceDiscovery answers GET /common/discovery/instance, which MSAL uses to learn an
// authority's aliases and where its tenant metadata lives. The only known instance is the
// emulator itself: the authorization endpoint asked about must be on its host and below the
// prefix it is served under, and the path segment after that prefix is the tenant, whichever
// it is (as Entra's discovery answers for any tenant; the metadata endpoint then checks it).
func (e *Emulator) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	c := Call{Path: r.URL.Path}
	defer func() { e.calls.Record(c) }()
	base := e.base(r)
	self, _ := url.Parse(base)
	ae := r.URL.Query().Get("authorization_endpoint")
	if ae == "" {
		e.writeRefusal(w, r, &c, refuse(http.StatusBadRequest, "invalid_request", 50050, "The request is malformed."))
		return
	}
	tenant, ok := discoveredTenant(ae, self)
	if !ok {
		e.writeRefusal(w, r, &c, refuse(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."))
		return
	}
	c.Tenant = tenant
	c.Status, c.Outcome = http.StatusOK, "ok"
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": base + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": self.Host,
			"preferred_cache":   self.Host,
			"aliases":           []string{self.Host},
		}},
	})
}

// discoveredTenant reads the tenant of an authorization endpoint
// https://<self's host><self's path>/<tenant>/...; ok is false when the endpoint is elsewhere.
func discoveredTenant(authorizationEndpoint string, self *url.URL) (string, bool) {
	u, err := url.Parse(authorizationEndpoint)
	if err != nil || self == nil || u.Scheme != "https" || !strings.EqualFold(u.Host, self.Host) {
		return "", false
	}
	rest, ok := strings.CutPrefix(u.Path, strings.TrimSuffix(self.Path, "/")+"/")
	if !ok {
		return "", false
	}
	tenant, _, _ := strings.Cut(rest, "/")
	return tenant, tenant != ""
}

// tenantMetadata answers the tenant's OpenID configuration document.
func (e *Emulator) tenantMetadata(w http.ResponseWriter, r *http.Request) {
	c := Call{Path: r.URL.Path, Tenant: r.PathValue("tenant")}
	defer func() { e.calls.Record(c) }()
	tenant, ok := e.tenant(c.Tenant)
	if !ok {
		e.writeRefusal(w, r, &c, unknownTenant("invalid_tenant", c.Tenant))
		return
	}
	t := e.base(r) + "/" + tenant
	c.Status, c.Outcome = http.StatusOK, "ok"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                t + "/v2.0",
		"token_endpoint":                        t + "/oauth2/v2.0/token",
		"authorization_endpoint":                t + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         t + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  t + "/oauth2/v2.0/logout",
		"jwks_uri":                              t + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"tenant_region_scope":                   nil,
		"cloud_instance_name":                   "emulator",
	})
}

// keys answers the tenant's JWKS: empty, since the emulator's access tokens are not signed.
func (e *Emulator) keys(w http.ResponseWriter, r *http.Request) {
	c := Call{Path: r.URL.Path, Tenant: r.PathValue("tenant")}
	defer func() { e.calls.Record(c) }()
	if _, ok := e.tenant(c.Tenant); !ok {
		e.writeRefusal(w, r, &c, unknownTenant("invalid_tenant", c.Tenant))
		return
	}
	c.Status, c.Outcome = http.StatusOK, "ok"
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{}})
}

func unknownTenant(oauthErr, tenant string) *refusal {
	return refuse(http.StatusBadRequest, oauthErr, 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "+
			"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}
