package gcpemu

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oauthscope"
	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/provider"
)

// Token exchange parameters (RFC 8693) as Google STS accepts them for OIDC providers.
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccess    = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"

	// federatedLifetime is the lifetime of an STS access token.
	federatedLifetime = time.Hour
)

// signingAlgorithms are the algorithms the emulator accepts on subject tokens; Google
// accepts RSA and EC signatures, never HMAC.
var signingAlgorithms = []string{"RS256", "ES256"}

// maxSubjectTokenLifetime bounds a subject token's exp after its iat, which Google STS also
// requires (as it requires the kid header): exp must be less than 48 hours after iat.
const maxSubjectTokenLifetime = provider.GCPMaxSubjectToken

// stsRequest is an ExchangeToken request; Google takes it form-encoded or as JSON.
type stsRequest struct {
	GrantType          string
	Audience           string
	Scope              string
	RequestedTokenType string
	SubjectToken       string
	SubjectTokenType   string
}

func parseSTSRequest(r *http.Request) (stsRequest, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/json" {
		var body map[string]any
		if err := decodeWhole(json.NewDecoder(r.Body), &body); err != nil {
			return stsRequest{}, fmt.Errorf("invalid JSON payload: %w", err)
		}
		if err := checkSTSFields(body); err != nil {
			return stsRequest{}, err
		}
		// A field is given under at most one of its names (checkSTSFields).
		get := func(proto string) string {
			if s, ok := body[proto].(string); ok {
				return s
			}
			s, _ := body[stsFieldNames[proto]].(string)
			return s
		}
		return stsRequest{
			GrantType: get("grant_type"), Audience: get("audience"), Scope: get("scope"),
			RequestedTokenType: get("requested_token_type"), SubjectToken: get("subject_token"),
			SubjectTokenType: get("subject_token_type"),
		}, nil
	}
	if err := r.ParseForm(); err != nil {
		return stsRequest{}, fmt.Errorf("invalid form payload: %w", err)
	}
	f := r.PostForm
	return stsRequest{
		GrantType: f.Get("grant_type"), Audience: f.Get("audience"), Scope: f.Get("scope"),
		RequestedTokenType: f.Get("requested_token_type"), SubjectToken: f.Get("subject_token"),
		SubjectTokenType: f.Get("subject_token_type"),
	}, nil
}

// stsFieldNames are the seven fields of an ExchangeTokenRequest, each proto name to its JSON
// name, the two spellings Google's front end takes; all are strings. The request has no actor
// token: RFC 8693's actor_token and actor_token_type are unknown fields in JSON.
var stsFieldNames = map[string]string{
	"grant_type": "grantType", "audience": "audience", "scope": "scope",
	"requested_token_type": "requestedTokenType", "subject_token": "subjectToken",
	"subject_token_type": "subjectTokenType", "options": "options",
}

// isSTSField reports whether name is a field of an ExchangeTokenRequest under either spelling.
func isSTSField(name string) bool {
	_, proto := stsFieldNames[name]
	return proto || slices.Contains(slices.Collect(maps.Values(stsFieldNames)), name)
}

// jsonFieldError is a JSON body's field Google's front end refuses before STS reads the request.
type jsonFieldError struct{ problem string }

func (e *jsonFieldError) Error() string { return e.problem }

// checkSTSFields refuses a JSON ExchangeTokenRequest naming a field the request does not have,
// giving a field a value that is not a string (null is an absent field), or giving one field
// under both its proto and its JSON name. The refusal names the field and never echoes its value.
func checkSTSFields(body map[string]any) error {
	names := make([]string, 0, len(body))
	for name := range body {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !isSTSField(name) {
			return unknownField(name)
		}
		switch body[name].(type) {
		case string, nil:
		default:
			return &jsonFieldError{"Invalid value at " + strconv.Quote(name) + " (TYPE_STRING)."}
		}
	}
	for _, proto := range slices.Sorted(maps.Keys(stsFieldNames)) {
		camel := stsFieldNames[proto]
		if camel != proto && body[proto] != nil && body[camel] != nil {
			return &jsonFieldError{"Field " + strconv.Quote(proto) + " is given twice, also as " +
				strconv.Quote(camel) + "."}
		}
	}
	return nil
}

func (e *Emulator) serveSTS(w http.ResponseWriter, r *http.Request) {
	call := Call{Endpoint: EndpointSTS}
	fail := func(status int, code, description string) {
		call.Status, call.Outcome = status, code
		e.calls.Record(call)
		writeOAuthError(w, status, code, description)
	}
	req, err := parseSTSRequest(r)
	var field *jsonFieldError
	switch {
	case errors.As(err, &field):
		fail(http.StatusBadRequest, "invalid_request", msgInvalidJSON+" "+field.problem)
		return
	case errors.Is(err, errTrailingJSON):
		fail(http.StatusBadRequest, "invalid_request", msgInvalidJSON+" "+msgUnexpectedToken)
		return
	case err != nil:
		fail(http.StatusBadRequest, "invalid_request", "Invalid request payload.")
		return
	}
	call.Audience, call.Scopes = req.Audience, oauthscope.Split(req.Scope)
	switch {
	case req.GrantType != grantTokenExchange:
		fail(http.StatusBadRequest, "invalid_request", `Invalid value for "grant_type". It must be `+grantTokenExchange+".")
		return
	case req.RequestedTokenType != tokenTypeAccess:
		fail(http.StatusBadRequest, "invalid_request", `Invalid value for "requested_token_type". It must be `+tokenTypeAccess+".")
		return
	case req.SubjectTokenType != tokenTypeJWT && req.SubjectTokenType != tokenTypeIDToken:
		fail(http.StatusBadRequest, "invalid_request", `Invalid value for "subject_token_type". An OIDC provider takes `+tokenTypeJWT+".")
		return
	case req.SubjectToken == "":
		fail(http.StatusBadRequest, "invalid_request", `The "subject_token" parameter is required.`)
		return
	}
	name, ok := strings.CutPrefix(req.Audience, fullNameSlash)
	if !ok || !provider.ValidGCPProviderName(name) {
		fail(http.StatusBadRequest, "invalid_request", msgInvalidAudience)
		return
	}
	p, ok := e.providers[req.Audience]
	if !ok {
		fail(http.StatusBadRequest, "invalid_target", msgInvalidTarget)
		return
	}
	call.Provider = p.Name
	if len(call.Scopes) == 0 {
		fail(http.StatusBadRequest, "invalid_request", `The "scope" parameter is required.`)
		return
	}
	claims, err := e.verifier.Verify(r.Context(), req.SubjectToken,
		oidctrust.Policy{Issuer: p.Issuer, Audiences: p.audiences(), Algorithms: signingAlgorithms,
			RequireKID: true, RequireIat: true, MaxLifetime: maxSubjectTokenLifetime})
	if err != nil {
		fail(http.StatusBadRequest, "invalid_grant", e.describe(err, req.SubjectToken))
		return
	}
	attrs, err := p.mapAttributes(claims)
	if err != nil {
		fail(http.StatusBadRequest, "invalid_request", "The attribute mapping could not be evaluated against the incoming assertion: "+err.Error()+".")
		return
	}
	subject := attrs["google.subject"]
	call.Subject = subject
	switch {
	case subject == "":
		fail(http.StatusBadRequest, "invalid_request", "The mapped attribute google.subject is empty. "+
			"Either modify your attribute mapping or the incoming assertion to produce a non-empty google.subject.")
		return
	case len(subject) > maxSubjectBytes:
		fail(http.StatusBadRequest, "invalid_request", fmt.Sprintf("The size of mapped attribute google.subject exceeds the %d bytes limit. "+
			"Either modify your attribute mapping or the incoming assertion to produce a mapped attribute that is less than %d bytes.",
			maxSubjectBytes, maxSubjectBytes))
		return
	case claims.String("sub") == "":
		// Google requires sub of every OIDC subject token, whatever google.subject is mapped from.
		fail(http.StatusBadRequest, "invalid_grant", "The ID Token has no sub claim.")
		return
	case p.AttributeCondition != nil && !p.AttributeCondition(claims, attrs):
		fail(http.StatusBadRequest, "unauthorized_client", msgConditionRejected)
		return
	}
	// A federated token lives an hour at most, and never past the credential exchanged for it.
	now := e.now()
	expires := now.Add(federatedLifetime).Unix()
	if exp, ok := claims["exp"].(float64); ok && int64(exp) < expires {
		expires = int64(exp)
	}
	if expires <= now.Unix() {
		fail(http.StatusBadRequest, "invalid_grant", e.describe(oidctrust.ErrExpired, req.SubjectToken))
		return
	}
	token, err := e.sealer.seal(federatedTokens, federated{
		Provider: p.Name, Audience: req.Audience, Attrs: attrs, Scopes: call.Scopes,
		Expires: expires,
	})
	if err != nil {
		fail(http.StatusInternalServerError, "server_error", "Internal error encountered.")
		return
	}
	call.Status, call.Outcome = http.StatusOK, OutcomeOK
	e.calls.Record(call)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":      token,
		"issued_token_type": tokenTypeAccess,
		"token_type":        "Bearer",
		"expires_in":        expires - now.Unix(),
	})
}

// describe turns a validation failure into Google's error_description. It reads the token's
// unverified header and claims only to word the message; the token itself is never echoed.
func (e *Emulator) describe(err error, token string) string {
	header, claims := peek(token)
	switch {
	case errors.Is(err, oidctrust.ErrAlgorithm):
		return fmt.Sprintf("The ID Token is signed with algorithm %q, which is not supported. Supported algorithms: %s.",
			header["alg"], strings.Join(signingAlgorithms, ", "))
	case errors.Is(err, oidctrust.ErrMalformed):
		return "Unable to parse the ID Token."
	case errors.Is(err, oidctrust.ErrIssuer):
		return fmt.Sprintf("The issuer in ID Token [%v] does not match the expected ones.", claims["iss"])
	case errors.Is(err, oidctrust.ErrDiscovery):
		return msgIssuerUnreachable
	case errors.Is(err, oidctrust.ErrSignature):
		return "Invalid JWT signature."
	case errors.Is(err, oidctrust.ErrAudience):
		return fmt.Sprintf("The audience in ID Token [%s] does not match the expected audience.",
			strings.Join(oidctrust.Claims(claims).Audiences(), ", "))
	case errors.Is(err, oidctrust.ErrLifetime):
		return fmt.Sprintf("The ID Token's lifetime is too long: exp must be less than %s after iat.", maxSubjectTokenLifetime)
	case errors.Is(err, oidctrust.ErrExpired):
		exp, hasExp := claims["exp"].(float64)
		if hasExp && !e.now().Before(time.Unix(int64(exp), 0)) {
			iat, _ := claims["iat"].(float64)
			return fmt.Sprintf("ID Token issued at %d is stale to sign-in.", int64(iat))
		}
		return "The ID Token is not yet valid."
	}
	return "Invalid ID Token."
}

// peek decodes a compact JWS's header and payload without verifying anything.
func peek(token string) (header, claims map[string]any) {
	parts := strings.Split(token, ".")
	decode := func(i int) map[string]any {
		var m map[string]any
		if i < len(parts) {
			if raw, err := base64.RawURLEncoding.DecodeString(parts[i]); err == nil {
				_ = json.Unmarshal(raw, &m)
			}
		}
		return m
	}
	return decode(0), decode(1)
}

// hasScope reports whether scopes grant access to IAM Credentials.
func hasScope(scopes []string) bool {
	return slices.ContainsFunc(scopes, func(s string) bool {
		return s == "https://www.googleapis.com/auth/cloud-platform" || s == "https://www.googleapis.com/auth/iam"
	})
}
