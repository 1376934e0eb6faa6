package gcpemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/provider"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
)

// maxLifetime is the default ceiling on generateAccessToken's lifetime (Google allows up to
// 12h only with an organization policy, which the emulator does not model).
const maxLifetime = time.Hour

// generateAccessTokenRequest is the IAM Credentials request body.
type generateAccessTokenRequest struct {
	Delegates []string `json:"delegates"`
	Scope     []string `json:"scope"`
	Lifetime  string   `json:"lifetime"`
}

func (e *Emulator) serveIAM(w http.ResponseWriter, r *http.Request) {
	call := Call{Endpoint: EndpointIAM}
	fail := func(status int, message string, details ...any) {
		call.Status, call.Outcome = status, rpcStatus(status)
		e.calls.Record(call)
		writeRPCError(w, status, message, details...)
	}

	// The resource name: projects/-/serviceAccounts/<email or unique id>.
	rest := strings.TrimPrefix(r.URL.Path, "/v1/projects/")
	project, rest, _ := strings.Cut(rest, "/serviceAccounts/")
	email := strings.TrimSuffix(rest, ":generateAccessToken")
	call.ServiceAccount = email
	if project != "-" || email == "" || strings.Contains(email, "/") {
		fail(http.StatusBadRequest, msgInvalidArgument, fieldViolation("name",
			"The resource name must be projects/-/serviceAccounts/{ACCOUNT_EMAIL_OR_UNIQUEID}; the - wildcard is required."))
		return
	}

	// Authentication: a live federated token from this emulator's STS.
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || bearer == "" {
		fail(http.StatusUnauthorized, msgMissingCredential)
		return
	}
	var fed federated
	if err := e.sealer.open(federatedTokens, bearer, &fed); err != nil {
		fail(http.StatusUnauthorized, msgInvalidCredential)
		return
	}
	call.Provider, call.Audience, call.Subject = fed.Provider, fed.Audience, fed.Attrs["google.subject"]
	if !e.now().Before(time.Unix(fed.Expires, 0)) {
		fail(http.StatusUnauthorized, msgInvalidCredential)
		return
	}

	body, err := decodeIAMRequest(r.Body)
	if err != nil {
		fail(http.StatusBadRequest, msgInvalidJSON+" "+jsonProblem(err))
		return
	}
	call.Scopes = body.Scope
	lifetime, lifetimeErr := parseLifetime(body.Lifetime)
	call.Lifetime = lifetime

	sa, found := e.account(email)
	if !found {
		fail(http.StatusNotFound, "Not found; Gaia id not found for email "+email)
		return
	}
	call.ServiceAccount = sa.Email
	if !hasScope(fed.Scopes) {
		fail(http.StatusForbidden, msgInsufficientScopes,
			errorInfo("ACCESS_TOKEN_SCOPE_INSUFFICIENT", map[string]string{"method": "google.iam.credentials.v1.IAMCredentials.GenerateAccessToken"}))
		return
	}
	pool, _, _ := provider.GCPPool(fed.Provider)
	if !slices.ContainsFunc(principals(pool, fed.Attrs), func(m string) bool { return slices.Contains(sa.Members, m) }) {
		fail(http.StatusForbidden, msgPermissionDenied,
			errorInfo("IAM_PERMISSION_DENIED", map[string]string{"permission": "iam.serviceAccounts.getAccessToken"}))
		return
	}
	switch {
	case len(body.Delegates) > 0:
		fail(http.StatusBadRequest, msgInvalidArgument, fieldViolation("delegates", "Delegation chains are not supported by the emulator."))
		return
	case len(body.Scope) == 0:
		fail(http.StatusBadRequest, msgInvalidArgument, fieldViolation("scope", "At least one scope is required."))
		return
	case lifetimeErr != nil:
		fail(http.StatusBadRequest, msgInvalidArgument, fieldViolation("lifetime", lifetimeErr.Error()))
		return
	}

	expires := e.now().Add(lifetime).UTC().Truncate(time.Second)
	token, err := e.sealer.seal(accessTokens, TokenInfo{
		ServiceAccount: sa.Email, Scopes: body.Scope, ExpiresAt: expires, Subject: call.Subject,
	})
	if err != nil {
		fail(http.StatusInternalServerError, "Internal error encountered.")
		return
	}
	call.Status, call.Outcome = http.StatusOK, OutcomeOK
	e.calls.Record(call)
	writeJSON(w, http.StatusOK, map[string]string{"accessToken": token, "expireTime": expires.Format(time.RFC3339)})
}

func (e *Emulator) account(id string) (ServiceAccount, bool) {
	for _, sa := range e.accounts {
		// Emails are ASCII: only ASCII letters match in another case (strings.EqualFold would
		// also take U+017F for "s" and U+212A for "k").
		if asciiLower(sa.Email) == asciiLower(id) {
			return sa, true
		}
	}
	return ServiceAccount{}, false
}

// asciiLower is s with its ASCII letters in lower case, every other byte as it is.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// parseLifetime reads a google.protobuf.Duration in JSON form ("3600s", "1.5s"); empty means
// the default hour. It must be positive and at most maxLifetime.
func parseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return maxLifetime, nil
	}
	// lifetime is a google.protobuf.Duration in its JSON form, read by the parser Google's own
	// libraries use: no exponents, hex or more than nine fractional digits.
	var pd durationpb.Duration
	quoted, _ := json.Marshal(s)
	if err := protojson.Unmarshal(quoted, &pd); err != nil {
		return 0, fmt.Errorf("lifetime %q is not a duration in seconds such as \"3600s\"", s)
	}
	d := pd.AsDuration()
	if d <= 0 || d > maxLifetime {
		return d, fmt.Errorf("lifetime must be greater than 0s and at most %ds, got %s", int(maxLifetime/time.Second), s)
	}
	return d, nil
}

// errTrailingJSON reports a request body holding more than one JSON value.
var errTrailingJSON = errors.New("more follows the JSON value")

// decodeWhole decodes the one JSON value a request body must be into v: Google's front end
// parses the whole body, so anything but whitespace after that value is errTrailingJSON.
func decodeWhole(dec *json.Decoder, v any) error {
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailingJSON
	}
	return nil
}

// iamFields are the fields of a GenerateAccessTokenRequest. Each one's JSON name is its proto
// name, and Google's front end takes a field only under one of those, spelled exactly: "Scope"
// is an unknown field, not scope.
var iamFields = []string{"delegates", "lifetime", "scope"}

// decodeIAMRequest decodes the one JSON object a generateAccessToken body must be, refusing a
// field not named exactly as in iamFields (encoding/json alone matches names in any case).
func decodeIAMRequest(body io.Reader) (generateAccessTokenRequest, error) {
	var fields map[string]json.RawMessage
	if err := decodeWhole(json.NewDecoder(body), &fields); err != nil {
		return generateAccessTokenRequest{}, err
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !slices.Contains(iamFields, name) {
			return generateAccessTokenRequest{}, unknownField(name)
		}
	}
	var req generateAccessTokenRequest
	var err error
	if req.Delegates, err = stringList("delegates", fields["delegates"]); err != nil {
		return generateAccessTokenRequest{}, err
	}
	if req.Scope, err = stringList("scope", fields["scope"]); err != nil {
		return generateAccessTokenRequest{}, err
	}
	if raw, ok := fields["lifetime"]; ok {
		if err := json.Unmarshal(raw, &req.Lifetime); err != nil {
			return generateAccessTokenRequest{}, err
		}
	}
	return req, nil
}

// stringList decodes the repeated string field name from raw (absent when raw is nil). null
// for the whole field is the field absent, but an element of a list cannot be null.
func stringList(name string, raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	var items []*string
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		if item == nil {
			return nil, &jsonFieldError{fmt.Sprintf("Invalid value at '%s[%d]' (TYPE_STRING), null.",
				name, i)}
		}
		out = append(out, *item)
	}
	return out, nil
}

// unknownField is the front end's refusal of a JSON field the request does not have.
func unknownField(name string) *jsonFieldError {
	return &jsonFieldError{"Unknown name " + strconv.Quote(name) + ": Cannot find field."}
}

// jsonProblem words a JSON decoding error without echoing the payload.
func jsonProblem(err error) string {
	var field *jsonFieldError
	switch {
	case errors.Is(err, errTrailingJSON):
		return msgUnexpectedToken
	case errors.As(err, &field):
		return field.problem
	}
	return "The body is not a GenerateAccessTokenRequest."
}
