package awsemu

import (
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/emulator/calllog"
	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/provider"
)

// APIVersion is the only STS API version the emulator speaks.
const APIVersion = "2011-06-15"

// Namespace is the XML namespace of every STS answer.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// DefaultMaxSessionDuration is a role's maximum session duration when Role leaves it unset.
const DefaultMaxSessionDuration = time.Hour

// maxRequestBytes caps a request body; STS's own limits are far below it.
const maxRequestBytes = 1 << 20

// Role is an IAM role that can be assumed.
type Role struct {
	// ARN is the role's ARN, arn:aws:iam::<account>:role/<name>.
	ARN string
	// Trust is the role's trust policy.
	Trust Trust
	// MaxSessionDuration caps DurationSeconds (default 1h, AWS allows up to 12h).
	MaxSessionDuration time.Duration
}

// Trust is a role's trust policy, reduced to the conditions broker relies on.
type Trust struct {
	// Issuer is the URL of the OIDC provider registered in IAM whose tokens may assume the role
	// with AssumeRoleWithWebIdentity; empty means no web identity may, and so does a URL with a
	// port on a host that is not loopback, which IAM cannot hold.
	Issuer string
	// Audiences is the provider's client ID list: a token's aud must hold one of them. An
	// entry longer than an IAM client ID (provider.AWSMaxClientIDLength) matches nothing.
	Audiences []string
	// Subject is the condition on <provider host>:sub: StringEquals, or StringLike when it
	// contains '*' (then '*' matches any run of characters and '?' any one). Empty means no
	// condition on sub.
	Subject string
	// Subjects, when set, lists further conditions on sub, any of which may match (an IAM
	// condition with several values); Subject, when set, counts as one more.
	Subjects []string
	// ExternalID, when set, must equal AssumeRole's ExternalId exactly.
	ExternalID string
	// Principals are the access key ids allowed to AssumeRole; empty means none.
	Principals []string
	// TagSession is the trust policy allowing sts:TagSession: without it, a web identity
	// token carrying session tags, or an AssumeRole with Tags, is refused (AccessDenied).
	TagSession bool
	// SetSourceIdentity is the trust policy allowing sts:SetSourceIdentity: without it, an
	// AssumeRole with SourceIdentity, or a web identity token carrying SourceIdentityClaim, is
	// refused (AccessDenied).
	SetSourceIdentity bool
}

// Config configures an Emulator.
type Config struct {
	// Roles are the roles that exist.
	Roles []Role
	// Verifier validates web identity tokens; nil means a default oidctrust.Verifier on Now.
	Verifier *oidctrust.Verifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AccessKeys maps the access key ids of SigV4 callers to their secret keys.
	AccessKeys map[string]string
	// Region is the region of the STS endpoint the emulator stands for; empty means
	// DefaultRegion, the global endpoint's. A signed request must be scoped to it, as STS
	// requires of every endpoint.
	Region string
}

// DefaultRegion is the region of the global STS endpoint, sts.amazonaws.com.
const DefaultRegion = provider.AWSRegion

// Call is one request the emulator answered, for tests to inspect.
type Call struct {
	// Time is when the request arrived.
	Time time.Time
	// Action is the STS action asked for.
	Action string
	// RoleARN and SessionName are the RoleArn and RoleSessionName parameters (for
	// GetCallerIdentity, those of the session that signed it).
	RoleARN     string
	SessionName string
	// Issuer, Subject and Audience come from a web identity token that passed verification
	// (Audience is the aud value that matched the provider).
	Issuer   string
	Subject  string
	Audience string
	// ExternalID is AssumeRole's parameter; SourceIdentity is AssumeRole's parameter or a web
	// identity token's SourceIdentityClaim.
	ExternalID     string
	SourceIdentity string
	// AccessKey is the access key id that signed an AssumeRole or GetCallerIdentity request.
	AccessKey string
	// SessionTags are the session tags taken from the token's https://aws.amazon.com/tags claim
	// (web identity) or the Tags parameter (AssumeRole).
	SessionTags map[string]string
	// TransitiveTagKeys are the tag keys marked transitive.
	TransitiveTagKeys []string
	// DurationSeconds is the session duration granted or asked for.
	DurationSeconds int
	// Outcome is "ok" or the error code answered.
	Outcome string
}

// Emulator is an http.Handler serving the STS Query API. It is safe for concurrent use.
type Emulator struct {
	roles    map[string]*role
	accounts map[string]map[string]bool // account -> OIDC provider URLs registered in it
	verifier *oidctrust.Verifier
	now      func() time.Time
	keys     map[string]string
	region   string

	sessions sessions
	calls    calllog.Log[Call]
	faults   calllog.Faults
}

// role is a Role with its ARN taken apart.
type role struct {
	Role
	partition string
	account   string
	name      string
	id        string
}

// New returns an emulator serving cfg's roles. Roles with a duplicate ARN: the first wins.
func New(cfg Config) *Emulator {
	e := &Emulator{
		roles:    make(map[string]*role),
		accounts: make(map[string]map[string]bool),
		verifier: cfg.Verifier,
		now:      cfg.Now,
		keys:     maps.Clone(cfg.AccessKeys),
		region:   cfg.Region,
	}
	if e.region == "" {
		e.region = DefaultRegion
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.verifier == nil {
		e.verifier = &oidctrust.Verifier{Now: cfg.Now}
	}
	for _, r := range cfg.Roles {
		if _, dup := e.roles[r.ARN]; dup {
			continue
		}
		if r.MaxSessionDuration <= 0 {
			r.MaxSessionDuration = DefaultMaxSessionDuration
		}
		r.Trust.Audiences = slices.DeleteFunc(slices.Clone(r.Trust.Audiences), func(a string) bool {
			return length(a) < 1 || length(a) > provider.AWSMaxClientIDLength
		})
		if !registrableIssuer(r.Trust.Issuer) {
			r.Trust.Issuer = ""
		}
		r.Trust.Principals = slices.Clone(r.Trust.Principals)
		parsed := parseRole(r)
		e.roles[r.ARN] = parsed
		if r.Trust.Issuer != "" {
			if e.accounts[parsed.account] == nil {
				e.accounts[parsed.account] = make(map[string]bool)
			}
			e.accounts[parsed.account][r.Trust.Issuer] = true
		}
	}
	return e
}

// registrableIssuer reports whether IAM can hold an OIDC provider for the issuer iss: one
// whose URL names no port, as IAM's provider URLs do not (the port would put a ':' into the
// provider's ARN). A loopback issuer keeps its port, for local trials.
func registrableIssuer(iss string) bool {
	u, err := url.Parse(iss)
	return err != nil || u.Port() == "" || config.IsLoopbackHost(u.Hostname())
}

// parseRole takes arn:<partition>:iam::<account>:role/<path/><name> apart; an ARN of another
// shape still works, in a placeholder account.
func parseRole(r Role) *role {
	out := &role{Role: r, partition: "aws", account: "000000000000", name: r.ARN, id: roleID(r.ARN)}
	parts := strings.SplitN(r.ARN, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && strings.HasPrefix(parts[5], "role/") {
		out.partition, out.account = parts[1], parts[4]
		path := strings.TrimPrefix(parts[5], "role/")
		out.name = path[strings.LastIndex(path, "/")+1:]
	}
	return out
}

// assumedRoleARN is the ARN of a session of r.
func (r *role) assumedRoleARN(session string) string {
	return "arn:" + r.partition + ":sts::" + r.account + ":assumed-role/" + r.name + "/" + session
}

// issue mints temporary credentials for a session of r named name, lasting seconds, and
// remembers them so that GetCallerIdentity can answer for them.
func (e *Emulator) issue(r *role, name string, seconds int) (credentialsXML, assumedRoleUser) {
	now := e.now()
	exp := now.Add(time.Duration(seconds) * time.Second).UTC()
	creds := newCredentials(exp.Format(time.RFC3339))
	user := assumedRoleUser{Arn: r.assumedRoleARN(name), AssumedRoleID: r.id + ":" + name}
	e.sessions.add(creds.AccessKeyID, session{
		secret: creds.SecretAccessKey, token: creds.SessionToken, expires: exp,
		roleARN: r.ARN, name: name, arn: user.Arn, userID: user.AssumedRoleID, account: r.account,
	}, now)
	return creds, user
}

// Calls returns a copy of every request answered so far, oldest first.
func (e *Emulator) Calls() []Call {
	out := e.calls.Calls()
	for i := range out {
		out[i].SessionTags = maps.Clone(out[i].SessionTags)
		out[i].TransitiveTagKeys = slices.Clone(out[i].TransitiveTagKeys)
	}
	return out
}

// FailNext makes the next n requests fail with the given HTTP status and error code before any
// validation (for example 503 ServiceUnavailable, or 400 Throttling). It replaces any failure
// still pending; n <= 0 clears it.
func (e *Emulator) FailNext(n int, status int, code string) {
	e.faults.Arm(n, status, code)
}

func faultMessage(code string) string {
	switch code {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded":
		return "Rate exceeded"
	case "ServiceUnavailable":
		return "Service is unavailable. Please try again later."
	case "InternalFailure", "InternalError":
		return "An internal error occurred. Please try again later."
	}
	return "Injected failure"
}

// ServeHTTP implements http.Handler.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	call := Call{Time: e.now(), Outcome: "ok"}
	answer := func(status int, body any) {
		writeXML(w, status, requestID, body)
	}
	fail := func(err *apiError) {
		call.Outcome = err.code
		e.calls.Record(call)
		writeError(w, requestID, err)
	}

	params, body, aerr := readParams(w, r)
	if aerr != nil {
		fail(aerr)
		return
	}
	call.Action = params.Get("Action")
	if f, ok := e.faults.Take(); ok {
		fail(&apiError{status: f.Status, code: f.Code, message: faultMessage(f.Code)})
		return
	}
	if r.URL.Path != "/" && r.URL.Path != "" {
		fail(&apiError{status: http.StatusNotFound, code: "UnknownOperationException",
			message: "STS serves its API at /, not " + r.URL.Path})
		return
	}
	if call.Action == "" {
		fail(&apiError{status: http.StatusBadRequest, code: "MissingAction", message: "Missing Action"})
		return
	}
	if v := params.Get("Version"); v != APIVersion || !knownAction(call.Action) {
		fail(&apiError{status: http.StatusBadRequest, code: "InvalidAction",
			message: "Could not find operation " + call.Action + " for version " + v})
		return
	}

	var (
		result any
		err    *apiError
	)
	switch call.Action {
	case actionWebIdentity:
		result, err = e.assumeRoleWithWebIdentity(r, params, &call)
	case actionAssumeRole:
		result, err = e.assumeRole(r, body, params, &call)
	case actionCallerIdentity:
		result, err = e.getCallerIdentity(r, body, &call)
	}
	if err != nil {
		fail(err)
		return
	}
	e.calls.Record(call)
	answer(http.StatusOK, result)
}

// STS actions served.
const (
	actionWebIdentity    = "AssumeRoleWithWebIdentity"
	actionAssumeRole     = "AssumeRole"
	actionCallerIdentity = "GetCallerIdentity"
)

func knownAction(a string) bool {
	return a == actionWebIdentity || a == actionAssumeRole || a == actionCallerIdentity
}

// readParams gathers the Query API parameters from the URL query and, for a form-encoded POST,
// the body, which it also returns for signature verification.
func readParams(w http.ResponseWriter, r *http.Request) (url.Values, []byte, *apiError) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, nil, &apiError{status: http.StatusMethodNotAllowed, code: "InvalidAction",
			message: "STS accepts GET and POST, not " + r.Method}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge",
				message: "Request body is too large"}
		}
		return nil, nil, &apiError{status: http.StatusBadRequest, code: "MalformedInput", message: "Request body could not be read"}
	}
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, &apiError{status: http.StatusBadRequest, code: "MalformedQueryString", message: "The query string is malformed"}
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mediaType == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, nil, &apiError{status: http.StatusBadRequest, code: "MalformedQueryString",
					message: "The form-encoded body is malformed"}
			}
			for k, vs := range form {
				params[k] = append(params[k], vs...)
			}
		}
	}
	return params, body, nil
}
