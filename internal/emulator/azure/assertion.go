package azureemu

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/provider"
)

// fedDocs is the link Entra appends to federated-credential mismatches.
const fedDocs = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"

// assertionAlgorithms is Entra's documented allow-list for federated assertions.
var assertionAlgorithms = []string{"RS256"}

// checkAssertion validates a federated client assertion for app: a federated credential for
// its issuer, then signature, audience and lifetime by oidctrust, then the exact subject.
func (e *Emulator) checkAssertion(r *http.Request, app App, assertion string, c *Call) *refusal {
	peek, err := peekClaims(assertion)
	if err != nil {
		return malformed()
	}
	c.Issuer, c.Subject = peek.String("iss"), peek.String("sub")
	c.Audience = strings.Join(peek.Audiences(), " ")

	var trusted []FederatedCredential
	for _, f := range app.Federated {
		if f.Issuer == c.Issuer {
			trusted = append(trusted, f)
		}
	}
	if len(trusted) == 0 {
		return noIssuer(c.Issuer)
	}
	var audiences []string
	for _, f := range trusted {
		for _, a := range f.audiences() {
			if !slices.Contains(audiences, a) {
				audiences = append(audiences, a)
			}
		}
	}
	policy := oidctrust.Policy{Issuer: c.Issuer, Audiences: audiences, Algorithms: assertionAlgorithms}
	if _, err := e.verifier.Verify(r.Context(), assertion, policy); err != nil {
		return e.verifyRefusal(err, peek, c)
	}
	if ref := lifetimeRefusal(peek); ref != nil {
		return ref
	}
	for _, f := range trusted {
		if f.Subject == c.Subject && slices.ContainsFunc(peek.Audiences(), func(a string) bool { return slices.Contains(f.audiences(), a) }) {
			return nil
		}
	}
	return refuse(http.StatusBadRequest, "invalid_request", 70021,
		"No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. "+
			"Assertion Audience: '%s'. %s", c.Issuer, c.Subject, c.Audience, fedDocs)
}

// lifetimeRefusal refuses, as Entra does (AADSTS70023), an assertion that lives longer than
// provider.AzureMaxAssertion from its iat; one without iat counts as issued at 0.
func lifetimeRefusal(peek oidctrust.Claims) *refusal {
	iat, _ := peek["iat"].(float64)
	exp, _ := peek["exp"].(float64)
	if exp-iat <= provider.AzureMaxAssertion.Seconds() {
		return nil
	}
	return refuse(http.StatusBadRequest, "invalid_request", 70023,
		"External OIDC Provider token must have a lifetime of less than or equal to 1.01:00:00. "+
			"Token issued at %d. Token expires on %d.", int64(iat), int64(exp))
}

// verifyRefusal maps an oidctrust failure to Entra's answer.
func (e *Emulator) verifyRefusal(err error, peek oidctrust.Claims, c *Call) *refusal {
	switch {
	case errors.Is(err, oidctrust.ErrIssuer):
		return noIssuer(c.Issuer)
	case errors.Is(err, oidctrust.ErrDiscovery):
		return refuse(http.StatusBadRequest, "invalid_request", provider.AzureIssuerUnreachable, "Request to External OIDC endpoint failed.")
	case errors.Is(err, oidctrust.ErrAlgorithm):
		return refuse(http.StatusUnauthorized, "invalid_client", 700027,
			"Client assertion failed signature validation. [Reason - The token is signed with an unsupported algorithm; "+
				"federated identity credentials accept RS256.]")
	case errors.Is(err, oidctrust.ErrSignature):
		return refuse(http.StatusUnauthorized, "invalid_client", 700027,
			"Client assertion failed signature validation. [Reason - No key published by the issuer verifies the signature.]")
	case errors.Is(err, oidctrust.ErrAudience):
		return refuse(http.StatusUnauthorized, "invalid_client", 700212,
			"No matching federated identity record found for presented assertion audience '%s'. Please check your federated "+
				"identity credential Subject, Audience and Issuer against the presented assertion. %s", c.Audience, fedDocs)
	case errors.Is(err, oidctrust.ErrExpired):
		return refuse(http.StatusUnauthorized, "invalid_client", 700024,
			"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. "+
				"Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
			entraInstant(e.now()), entraInstant(unix(peek["nbf"])), entraInstant(unix(peek["exp"])))
	}
	return malformed()
}

func malformed() *refusal {
	return refuse(http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed.")
}

func noIssuer(iss string) *refusal {
	return refuse(http.StatusUnauthorized, "invalid_client", 700211,
		"No matching federated identity record found for presented assertion issuer '%s'. Please check your federated identity "+
			"credential Subject, Audience and Issuer against the presented assertion. %s", iss, fedDocs)
}

// peekClaims decodes a compact JWS's claims without verifying anything, so the emulator can
// pick the federated credentials to verify against.
func peekClaims(token string) (oidctrust.Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWS")
	}
	var header map[string]any
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, err
	}
	var claims oidctrust.Claims
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, errors.New("claims are not an object")
	}
	return claims, nil
}

func decodeSegment(seg string, out any) error {
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// unix reads a NumericDate claim; zero when absent.
func unix(v any) time.Time {
	if f, ok := v.(float64); ok {
		return time.Unix(int64(f), 0)
	}
	return time.Unix(0, 0)
}

// entraInstant formats a time as Entra's time-range messages do.
func entraInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}
