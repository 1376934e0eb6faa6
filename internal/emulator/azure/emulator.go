package azureemu

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/emulator/calllog"
	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/provider"
)

// DefaultAudience is the audience a federated identity credential accepts when it names none,
// the value Microsoft requires for Entra ID.
const DefaultAudience = provider.AzureAudience

// ClientAssertionType is the only client_assertion_type the token endpoint accepts.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// App is an application registration (or user-assigned managed identity) in a tenant.
type App struct {
	TenantID  string
	ClientID  string
	Federated []FederatedCredential
}

// FederatedCredential trusts tokens of one external issuer for one subject.
type FederatedCredential struct {
	// Issuer must equal the assertion's iss exactly.
	Issuer string
	// Subject must equal the assertion's sub exactly.
	Subject string
	// Audiences lists accepted aud values; empty means [DefaultAudience].
	Audiences []string
}

func (f FederatedCredential) audiences() []string {
	if len(f.Audiences) == 0 {
		return []string{DefaultAudience}
	}
	return f.Audiences
}

// Config configures an Emulator.
type Config struct {
	Apps []App
	// Resources are the resource identifiers (application ID URIs, or application ids) with a
	// service principal in every tenant of Apps: a client-credentials scope must name one, or
	// Entra answers AADSTS500011. Nil means DefaultResources.
	Resources []string
	// Verifier validates assertions; nil means a default oidctrust.Verifier using Now.
	Verifier *oidctrust.Verifier
	// Now is the clock for timestamps and token lifetimes; nil means time.Now.
	Now func() time.Time
	// Host is the emulator's own https origin (https://127.0.0.1:1234, no path), used in the
	// documents it serves; a handler from Under adds its prefix. Empty means
	// https://<the request's Host>. See SetHost.
	Host string
}

// Call is one request the emulator answered.
type Call struct {
	Path   string
	Tenant string
	// ClientID, Scope (the resource scope, OIDC scopes dropped), Subject, Issuer and Audience
	// (space-separated when several) are filled in on token requests as far as they were read.
	ClientID string
	Scope    string
	Subject  string
	Issuer   string
	Audience string
	// Status is the HTTP status answered.
	Status int
	// Outcome is "ok" or the AADSTS code answered, such as "AADSTS70021".
	Outcome string
}

// Emulator is an http.Handler emulating Entra ID's federated client-credentials flow.
// It is safe for concurrent use.
type Emulator struct {
	apps      []App
	resources []string
	verifier  *oidctrust.Verifier
	now       func() time.Time
	mux       *http.ServeMux
	calls     calllog.Log[Call]
	faults    calllog.Faults

	mu   sync.Mutex
	host string
}

// New returns an emulator for cfg.
func New(cfg Config) *Emulator {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	v := cfg.Verifier
	if v == nil {
		v = &oidctrust.Verifier{Now: now}
	}
	e := &Emulator{
		apps:      slices.Clone(cfg.Apps),
		resources: slices.Clone(cfg.resources()),
		verifier:  v,
		now:       now,
		mux:       http.NewServeMux(),
	}
	e.SetHost(cfg.Host)
	e.mux.HandleFunc("GET /common/discovery/instance", e.instanceDiscovery)
	e.mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.tenantMetadata)
	e.mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", e.keys)
	e.mux.HandleFunc("/{tenant}/oauth2/v2.0/token", e.token)
	return e
}

// SetHost sets the emulator's public https origin, for when it is only known once the
// server listens.
func (e *Emulator) SetHost(host string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.host = strings.TrimSuffix(host, "/")
}

// ServeHTTP implements http.Handler.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mux.ServeHTTP(w, r)
}

// prefixKey carries the path prefix an Under handler strips.
type prefixKey struct{}

// Under returns a handler serving the emulator below prefix ("/azure"): the prefix is stripped
// before routing and put back into every URL the emulator's documents name, so a client whose
// requests keep the prefix (broker's authority_host https://<host>/azure) is sent back under it.
// Paths outside the prefix are not found.
func (e *Emulator) Under(prefix string) http.Handler {
	prefix = "/" + strings.Trim(prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			http.NotFound(w, r)
			return
		}
		if rest == "" {
			rest = "/"
		}
		r2 := r.Clone(context.WithValue(r.Context(), prefixKey{}, prefix))
		r2.URL.Path, r2.URL.RawPath = rest, ""
		e.mux.ServeHTTP(w, r2)
	})
}

// prefix is the path prefix r arrived under ("" at the root).
func prefix(r *http.Request) string {
	p, _ := r.Context().Value(prefixKey{}).(string)
	return p
}

// Calls returns the requests answered so far, oldest first.
func (e *Emulator) Calls() []Call {
	return e.calls.Calls()
}

// FailNext makes the next n token requests answer status (503, 429, ...) in Entra's error
// shape before any validation.
func (e *Emulator) FailNext(n, status int) {
	e.faults.Arm(n, status, "")
}

// base is the https base URL documents name: the origin and the prefix r arrived under.
func (e *Emulator) base(r *http.Request) string {
	e.mu.Lock()
	host := e.host
	e.mu.Unlock()
	if host == "" {
		host = "https://" + r.Host
	}
	return host + prefix(r)
}

// tenant returns the canonical id of a known tenant (GUIDs compare case-insensitively).
func (e *Emulator) tenant(id string) (string, bool) {
	for _, a := range e.apps {
		if strings.EqualFold(a.TenantID, id) {
			return a.TenantID, true
		}
	}
	return "", false
}

// app returns the application clientID of tenant.
func (e *Emulator) app(tenant, clientID string) (App, bool) {
	for _, a := range e.apps {
		if strings.EqualFold(a.TenantID, tenant) && strings.EqualFold(a.ClientID, clientID) {
			return a, true
		}
	}
	return App{}, false
}
