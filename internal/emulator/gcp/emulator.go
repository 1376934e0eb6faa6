package gcpemu

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/emulator/calllog"
	"github.com/brokerhq/broker/internal/emulator/oidctrust"
)

// Endpoints as recorded in Call.Endpoint.
const (
	EndpointSTS = "sts.token"
	EndpointIAM = "iamcredentials.generateAccessToken"
)

// OutcomeOK is Call.Outcome for a call that succeeded.
const OutcomeOK = "ok"

// Call records one request the Emulator answered.
type Call struct {
	// Endpoint is EndpointSTS or EndpointIAM.
	Endpoint string
	// Provider is the provider resource name (at IAM: the one the federated token came from).
	Provider string
	// Audience is the STS audience parameter (at IAM: the one the federated token was minted for).
	Audience string
	// Subject is the mapped google.subject, when known.
	Subject string
	// ServiceAccount is the impersonated account (IAM only).
	ServiceAccount string
	// Scopes are the requested scopes.
	Scopes []string
	// Lifetime is the requested access token lifetime (IAM only).
	Lifetime time.Duration
	// Status is the HTTP status answered.
	Status int
	// Outcome is OutcomeOK or the error code answered (invalid_grant, PERMISSION_DENIED, ...).
	Outcome string
}

// Emulator serves Google STS and IAM Credentials. It is safe for concurrent use.
type Emulator struct {
	providers map[string]Provider // by full resource name "//iam.googleapis.com/..."
	accounts  []ServiceAccount
	verifier  *oidctrust.Verifier
	now       func() time.Time
	sealer    sealer
	calls     calllog.Log[Call]
	faults    calllog.Faults
}

// New returns an Emulator for cfg. It panics if cfg.Validate fails: an emulator's
// configuration is the test's or the operator's, checked before use.
func New(cfg Config) *Emulator {
	if err := cfg.Validate(); err != nil {
		panic("gcpemu: invalid config: " + err.Error())
	}
	e := &Emulator{
		providers: map[string]Provider{},
		accounts:  slices.Clone(cfg.ServiceAccounts),
		verifier:  cfg.Verifier,
		now:       cfg.Now,
		sealer:    newSealer(),
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.verifier == nil {
		e.verifier = &oidctrust.Verifier{Now: e.now}
	}
	for _, p := range cfg.Providers {
		e.providers[fullNameSlash+p.Name] = p
	}
	return e
}

// ServeHTTP routes POST /v1/token and POST /v1/projects/-/serviceAccounts/<id>:generateAccessToken.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.serve(w, r, "")
}

// Only serves endpoint (EndpointSTS or EndpointIAM) alone, as Google's host of that service
// does: the other one's path is answered 404, so that an integration naming the wrong host for
// either fails here as it would at Google.
func (e *Emulator) Only(endpoint string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.serve(w, r, endpoint) })
}

// endpointOf is the endpoint path names, "" for none.
func endpointOf(path string) string {
	switch {
	case path == "/v1/token":
		return EndpointSTS
	case strings.HasPrefix(path, "/v1/projects/") && strings.HasSuffix(path, ":generateAccessToken"):
		return EndpointIAM
	}
	return ""
}

// serve answers r, serving only the endpoint only names unless only is "".
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request, only string) {
	path := r.URL.Path
	endpoint := endpointOf(path)
	if endpoint == "" || (only != "" && endpoint != only) {
		writeRPCError(w, http.StatusNotFound, "The requested URL "+path+" was not found on this server.")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeRPCError(w, http.StatusMethodNotAllowed, "Method "+r.Method+" is not allowed on "+path+".")
		return
	}
	if f, ok := e.faults.Take(); ok {
		e.calls.Record(Call{Endpoint: endpoint, Status: f.Status, Outcome: rpcStatus(f.Status)})
		writeRPCError(w, f.Status, rpcMessage(f.Status))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if endpoint == EndpointSTS {
		e.serveSTS(w, r)
		return
	}
	e.serveIAM(w, r)
}

// maxBody caps request bodies.
const maxBody = 64 << 10

// Calls returns every call answered so far, oldest first.
func (e *Emulator) Calls() []Call {
	out := e.calls.Calls()
	for i := range out {
		out[i].Scopes = slices.Clone(out[i].Scopes)
	}
	return out
}

// FailNext makes the next n requests, on either endpoint, fail with status before any
// validation, with Google's JSON error body for it (503 UNAVAILABLE, 429 RESOURCE_EXHAUSTED...).
func (e *Emulator) FailNext(n, status int) {
	e.faults.Arm(n, status, "")
}

// AccessTokenInfo tells whether token is a live access token this Emulator minted, and for whom.
func (e *Emulator) AccessTokenInfo(token string) (TokenInfo, bool) {
	var info TokenInfo
	if err := e.sealer.open(accessTokens, token, &info); err != nil {
		return TokenInfo{}, false
	}
	return info, e.now().Before(info.ExpiresAt)
}
