package azureemu

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oauthscope"
)

// maxForm caps a token request body.
const maxForm = 1 << 20

// tokenLifetime is what Entra usually grants an app-only access token (expires_in 3599).
const tokenLifetime = 3599 * time.Second

// defaultSuffix ends every client-credentials scope: <resource>/.default.
const defaultSuffix = "/.default"

// oidcScopes are the scopes MSAL always adds; Entra ignores them in the client-credentials grant.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "offline_access": true, "email": true}

// token answers POST /<tenant>/oauth2/v2.0/token.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	c := Call{Path: r.URL.Path, Tenant: r.PathValue("tenant")}
	defer func() { e.calls.Record(c) }()
	if f, ok := e.faults.Take(); ok {
		e.writeRefusal(w, r, &c, transient(f.Status))
		return
	}
	if r.Method != http.MethodPost {
		e.writeRefusal(w, r, &c, refuse(http.StatusBadRequest, "invalid_request", 900561,
			"The endpoint only accepts POST requests. Received a %s request.", r.Method))
		return
	}
	tenant, ok := e.tenant(c.Tenant)
	if !ok {
		e.writeRefusal(w, r, &c, unknownTenant("invalid_request", c.Tenant))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		e.writeRefusal(w, r, &c, refuse(http.StatusBadRequest, "invalid_request", 90004, "The request is not properly formatted."))
		return
	}
	if ref := e.checkRequest(r, tenant, &c); ref != nil {
		e.writeRefusal(w, r, &c, ref)
		return
	}
	c.Status, c.Outcome = http.StatusOK, "ok"
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(tokenLifetime / time.Second),
		"ext_expires_in": int(tokenLifetime / time.Second),
		"access_token":   e.accessToken(tenant, c.ClientID, c.Scope),
	})
}

// checkRequest validates the form and the assertion in the order Entra reports problems,
// filling c in as it goes. It returns nil when a token may be issued.
func (e *Emulator) checkRequest(r *http.Request, tenant string, c *Call) *refusal {
	f := r.PostForm
	if ref := duplicatedParam(f); ref != nil {
		return ref
	}
	for _, p := range []string{"grant_type", "client_id", "scope"} {
		if f.Get(p) == "" {
			return missing(p)
		}
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		return refuse(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", gt)
	}
	c.ClientID = f.Get("client_id")
	app, ok := e.app(tenant, c.ClientID)
	if !ok {
		return refuse(http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been "+
				"installed by the administrator of the tenant or consented to by any user in the tenant. "+
				"You may have sent your authentication request to the wrong tenant.", c.ClientID, tenant)
	}
	var ref *refusal
	if c.Scope, ref = resourceScope(f.Get("scope")); ref != nil {
		return ref
	}
	if !knownResource(e.resources, c.Scope) {
		return unknownResource(c.Scope, tenant)
	}
	assertion, assertionType := f.Get("client_assertion"), f.Get("client_assertion_type")
	switch {
	case f.Get("client_secret") != "":
		return refuse(http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", c.ClientID)
	case assertion == "" && assertionType == "":
		return refuse(http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case assertionType == "":
		return missing("client_assertion_type")
	case assertionType != ClientAssertionType:
		return refuse(http.StatusBadRequest, "invalid_request", 90011, "Unexpected client assertion type.")
	case assertion == "":
		return missing("client_assertion")
	}
	return e.checkAssertion(r, app, assertion, c)
}

func missing(param string) *refusal {
	return refuse(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", param)
}

// duplicatedParam refuses a form that gives any parameter more than once, whatever its name
// and whether or not the values agree: Entra answers AADSTS9000411 before any other check.
// When several parameters repeat, the first by name is reported.
func duplicatedParam(f url.Values) *refusal {
	var dups []string
	for name, values := range f {
		if len(values) > 1 {
			dups = append(dups, name)
		}
	}
	if len(dups) == 0 {
		return nil
	}
	return refuse(http.StatusBadRequest, "invalid_request", 9000411,
		"The request is not properly formatted. The parameter '%s' is duplicated.", slices.Min(dups))
}

// resourceScope returns the single <resource>/.default scope of a client-credentials request,
// the OIDC scopes MSAL adds dropped; scopes are separated by spaces alone (oauthscope.Split).
// The resource must be non-empty.
func resourceScope(scope string) (string, *refusal) {
	var resources []string
	for _, s := range oauthscope.Split(scope) {
		if !oidcScopes[s] {
			resources = append(resources, s)
		}
	}
	switch {
	case len(resources) == 0:
		return "", refuse(http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid.", scope)
	case len(resources) > 1:
		return strings.Join(resources, " "), refuse(http.StatusBadRequest, "invalid_scope", 700022,
			"The provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.",
			strings.Join(resources, " "))
	case !strings.HasSuffix(resources[0], defaultSuffix):
		return resources[0], refuse(http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid. Client credential flows "+
				"must have a scope value with /.default suffixed to the resource identifier (application ID URI).", resources[0])
	case strings.TrimSuffix(resources[0], defaultSuffix) == "":
		// The resource before /.default becomes the token's aud; an empty one names no resource.
		return resources[0], refuse(http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid. "+
				"The scope must name a resource identifier (application ID URI) before /.default.", resources[0])
	}
	return resources[0], nil
}

// transient is the answer FailNext injects.
func transient(status int) *refusal {
	if status == http.StatusTooManyRequests {
		return refuse(status, "temporarily_unavailable", 90055, "There are too many incoming requests. Please try again later.")
	}
	return refuse(status, "temporarily_unavailable", 50033, "A transient error has occurred. Please try again.")
}

// accessToken returns a JWT-shaped but unsigned and useless access token: a real header and
// claims (so callers can look at aud, tid, appid and exp) and a random signature.
func (e *Emulator) accessToken(tenant, clientID, scope string) string {
	now := e.now()
	oid := newUUID()
	header := map[string]any{"typ": "JWT", "alg": "RS256", "kid": "azure-emulator"}
	claims := map[string]any{
		"aud":      strings.TrimSuffix(scope, defaultSuffix),
		"iss":      "https://sts.windows.net/" + tenant + "/",
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Add(tokenLifetime).Unix(),
		"appid":    clientID,
		"appidacr": "2",
		"idtyp":    "app",
		"oid":      oid,
		"sub":      oid,
		"tid":      tenant,
		"uti":      randomSegment(16),
		"ver":      "1.0",
	}
	return segment(header) + "." + segment(claims) + "." + randomSegment(256)
}

func segment(v any) string {
	data, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(data)
}

func randomSegment(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
