package awsemu

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/provider"
)

// TagsClaim is the claim AWS turns into session tags.
const TagsClaim = "https://aws.amazon.com/tags"

// SourceIdentityClaim is the claim AWS takes as the session's source identity.
const SourceIdentityClaim = "https://aws.amazon.com/source_identity"

// Algorithms are the token signature algorithms IAM OIDC providers accept.
var Algorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}

const notAuthorizedWebIdentity = "Not authorized to perform sts:AssumeRoleWithWebIdentity"

// maxTokenAge is how long after its iat STS still takes a web identity token, whatever its exp:
// older ones get ExpiredTokenException "Token too old: <age in seconds>". STS does not publish
// the bound; it refuses tokens 1.8 and 5 days old, and a day is the longest a Kubernetes
// projected token lives before its kubelet replaces it.
const maxTokenAge = 24 * time.Hour

// assumeRoleWithWebIdentity validates in STS's order: parameters, session policy, role, token
// (provider, signature, audience, expiry), trust condition on sub, session tags, then the role's
// maximum session duration.
func (e *Emulator) assumeRoleWithWebIdentity(r *http.Request, p url.Values, call *Call) (*webIdentityResponse, *apiError) {
	var v validation
	call.RoleARN = v.str(p, strParam{Name: "RoleArn", Field: "roleArn", Required: true, MinLen: 20, MaxLen: 2048, Pattern: arnPattern})
	call.SessionName = v.str(p, strParam{Name: "RoleSessionName", Field: "roleSessionName", Required: true, MinLen: 2, MaxLen: 64, Pattern: sessionNamePattern})
	token := v.secret(p, strParam{Name: "WebIdentityToken", Field: "webIdentityToken", Required: true, MinLen: 4, MaxLen: 20000})
	call.DurationSeconds = v.duration(p)
	v.str(p, strParam{Name: "Policy", Field: "policy", MinLen: 1, MaxLen: 2048, Pattern: policyPattern})
	v.policyArns(p)
	v.str(p, strParam{Name: "ProviderId", Field: "providerId", MinLen: 4, MaxLen: 2048})
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := checkSessionPolicy(p); err != nil {
		return nil, err
	}

	role, ok := e.roles[call.RoleARN]
	if !ok {
		return nil, accessDenied(notAuthorizedWebIdentity)
	}
	claims, err := e.verifier.Verify(r.Context(), token, oidctrust.Policy{
		Issuer:     role.Trust.Issuer,
		Audiences:  role.Trust.Audiences,
		Algorithms: Algorithms,
		StrictExp:  true,
		MaxAge:     maxTokenAge,
	})
	if err != nil {
		return nil, e.tokenError(role, refusedToken{raw: token, claims: claims, err: err})
	}
	if _, ok := claims["sub"].(string); !ok {
		// STS requires the subject of every web identity token, whatever the role's trust.
		return nil, invalidToken("Missing a required claim: sub")
	}
	if name := fractionalTime(claims); name != "" {
		return nil, invalidToken("The web identity token's " + name + " is not an integer: timestamps in the token must be integers")
	}
	call.Issuer = claims.String("iss")
	call.Subject = claims.String("sub")
	call.Audience = matchedAudience(claims.Audiences(), role.Trust.Audiences)
	if !role.Trust.matchesSubject(call.Subject) {
		return nil, accessDenied(notAuthorizedWebIdentity)
	}
	if raw, present := claims[TagsClaim]; present {
		tags, transitive, err := parseAWSTags(raw)
		if err != nil {
			return nil, invalidToken("Invalid session tags: " + err.Error())
		}
		if !role.Trust.TagSession {
			return nil, accessDenied(notAuthorizedWebIdentity)
		}
		call.SessionTags, call.TransitiveTagKeys = tags, transitive
	}
	if raw, present := claims[SourceIdentityClaim]; present {
		// The claim is the session's source identity, held to the rule of AssumeRole's
		// SourceIdentity parameter: 2 to 64 characters of [\w+=,.@-].
		id, ok := raw.(string)
		if !ok || !sourceIdentityParam.fits(id) {
			return nil, invalidToken("Invalid source identity: the " + SourceIdentityClaim + " claim must be 2 to 64 characters of letters, digits and _+=,.@-")
		}
		if !role.Trust.SetSourceIdentity {
			return nil, accessDenied(notAuthorizedWebIdentity)
		}
		call.SourceIdentity = id
	}
	if err := checkMaxDuration(role, call.DurationSeconds); err != nil {
		return nil, err
	}

	creds, user := e.issue(role, call.SessionName, call.DurationSeconds)
	return &webIdentityResponse{
		Xmlns: Namespace,
		Result: webIdentityResult{
			Credentials:                 creds,
			SubjectFromWebIdentityToken: call.Subject,
			AssumedRoleUser:             user,
			Provider:                    call.Issuer,
			Audience:                    call.Audience,
			SourceIdentity:              call.SourceIdentity,
		},
	}, nil
}

// refusedToken is a web identity token the verifier refused, with what tokenError needs to answer
// for it. It holds the raw token, a secret: never format or log it.
type refusedToken struct {
	// raw is the token as the caller sent it, read only to name its unverified issuer.
	raw string
	// claims are the token's claims, set only when the token verified but its times did not.
	claims oidctrust.Claims
	// err is the verifier's error, matched against oidctrust's sentinel errors.
	err error
}

// tokenError maps the oidctrust failure of t, a token presented to assume role, to STS's error
// for it.
func (e *Emulator) tokenError(role *role, t refusedToken) *apiError {
	switch {
	case errors.Is(t.err, oidctrust.ErrIssuer):
		iss := unverifiedIssuer(t.raw)
		if len(iss) > 256 {
			iss = iss[:256]
		}
		if iss != "" && e.accounts[role.account][iss] {
			// A provider of the account, but not one this role trusts.
			return accessDenied(notAuthorizedWebIdentity)
		}
		return invalidToken("No OpenIDConnect provider found in your account for " + iss)
	case errors.Is(t.err, oidctrust.ErrDiscovery):
		// STS answers a provider whose keys it cannot fetch as an invalid token, not with
		// IDPCommunicationError; AWS's web identity credential provider retries it.
		return invalidToken(provider.AWSIssuerUnreachable + ",  please reference AssumeRoleWithWebIdentity documentation for requirements")
	case errors.Is(t.err, oidctrust.ErrAudience):
		return invalidToken("Incorrect token audience")
	case errors.Is(t.err, oidctrust.ErrSignature):
		return invalidToken("The web identity token's signature could not be verified with the provider's keys")
	case errors.Is(t.err, oidctrust.ErrAlgorithm):
		return invalidToken("The web identity token is signed with an unsupported algorithm; supported: " + strings.Join(Algorithms, ", "))
	case errors.Is(t.err, oidctrust.ErrTooOld):
		if iat, ok := t.claims["iat"].(float64); ok {
			return &apiError{status: http.StatusBadRequest, code: "ExpiredTokenException",
				message: fmt.Sprintf("Token too old: %d", e.now().Unix()-int64(iat))}
		}
	case errors.Is(t.err, oidctrust.ErrExpired):
		now := e.now().Unix()
		if exp, ok := t.claims["exp"].(float64); ok && now >= int64(exp) {
			return &apiError{status: http.StatusBadRequest, code: "ExpiredTokenException",
				message: fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time %d", now, int64(exp))}
		}
		return invalidToken("The web identity token is not yet valid")
	}
	return invalidToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
}

// fractionalTime names the first of the token's exp, iat and nbf that is not a whole number,
// "" when none is: STS takes timestamps only as integers (the verifier has checked they are
// numbers).
func fractionalTime(claims oidctrust.Claims) string {
	for _, name := range []string{"exp", "iat", "nbf"} {
		if v, ok := claims[name].(float64); ok && v != math.Trunc(v) {
			return name
		}
	}
	return ""
}

// unverifiedIssuer reads iss from a token without verifying it, only to name it in an error.
func unverifiedIssuer(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Iss
}

func matchedAudience(token, accepted []string) string {
	for _, a := range token {
		if slices.Contains(accepted, a) {
			return a
		}
	}
	return ""
}

func invalidToken(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidIdentityToken", message: msg}
}

func accessDenied(msg string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDenied", message: msg}
}
