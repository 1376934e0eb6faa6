package vaultemu

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/provider"
)

// refusal is a login Vault refuses: its status and message.
type refusal struct {
	status  int
	message string
}

func badRequest(format string, args ...any) *refusal {
	return &refusal{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
}

// login serves POST /v1/auth/<mount>/login.
func (e *Emulator) login(w http.ResponseWriter, r *http.Request, mount string) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	body, ok := readLogin(w, r)
	if !ok {
		return
	}
	m := e.mounts[mount]
	role, user, ref := e.authenticate(r, m, body.role, body.jwt)
	if ref != nil {
		writeErrors(w, ref.status, ref.message)
		return
	}
	policies := policiesOf(role)
	if slices.Contains(policies, "root") {
		// Vault refuses any login whose token would carry the root policy.
		writeErrors(w, http.StatusBadRequest, "auth methods cannot create root tokens")
		return
	}
	tok := issued{
		accessor: randomID(18), role: role.Name, mount: mount, user: user, entityID: newUUID(),
		policies: policies, meta: map[string]string{"role": role.Name},
		issuedAt: e.now(), ttl: role.TTL,
	}
	if tok.ttl <= 0 {
		tok.ttl = DefaultTTL
	}
	clientToken := "hvs." + randomID(24)
	e.mu.Lock()
	for id, old := range e.tokens { // expired tokens are gone for good, as in Vault
		if !tok.issuedAt.Before(old.issuedAt.Add(old.ttl)) {
			delete(e.tokens, id)
		}
	}
	e.tokens[clientToken] = tok
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"request_id": newUUID(), "lease_id": "", "renewable": false, "lease_duration": 0,
		"data": nil, "wrap_info": nil, "warnings": body.warnings(),
		"auth": map[string]any{
			"client_token": clientToken, "accessor": tok.accessor,
			"policies": tok.policies, "token_policies": tok.policies,
			"metadata": tok.meta, "lease_duration": int(tok.ttl.Seconds()), "renewable": true,
			"entity_id": tok.entityID, "token_type": "service", "orphan": true,
			"mfa_requirement": nil, "num_uses": 0,
		},
	})
}

// authenticate finds the role and validates jwt against it in Vault's order: role, token
// (signature, issuer, audience, times), user claim, bound claims.
func (e *Emulator) authenticate(r *http.Request, m Mount, roleName, jwt string) (Role, string, *refusal) {
	if roleName == "" {
		return Role{}, "", badRequest("missing role")
	}
	// Vault lower-cases role names: "XS" is role xs, but "xſ" (long s) is not, though it folds alike.
	lower := strings.ToLower(roleName)
	i := slices.IndexFunc(m.Roles, func(r Role) bool { return strings.ToLower(r.Name) == lower })
	if i < 0 {
		return Role{}, "", badRequest("role %q could not be found", roleName)
	}
	role := m.Roles[i]
	if jwt == "" {
		return Role{}, "", badRequest("missing token")
	}
	// Vault's verifier (go-oidc) parses a JWS in either serialization.
	policy := oidctrust.Policy{Issuer: m.BoundIssuer, Audiences: role.BoundAudiences, Algorithms: signingAlgorithms,
		JSONSerialization: true, UnboundAudience: true}
	claims, err := e.verifier.Verify(r.Context(), jwt, policy)
	if err != nil {
		if len(role.BoundAudiences) == 0 && errors.Is(err, oidctrust.ErrAudience) {
			return Role{}, "", badRequest("audience claim found in JWT but no audiences bound to the role")
		}
		// Vault checks the signature against the bound issuer's keys before the issuer claim.
		if errors.Is(err, oidctrust.ErrIssuer) {
			if ok, _ := e.verifier.SignedBy(r.Context(), jwt, policy); !ok {
				err = oidctrust.ErrSignature
			}
		}
		return Role{}, "", badRequest("error validating token: %s", tokenProblem(err))
	}
	if problem := registeredAsVaultReads(jwt, claims, m.BoundIssuer); problem != "" {
		return Role{}, "", badRequest("error validating token: %s", problem)
	}
	user, present := claims[role.UserClaim]
	if !present || user == nil {
		return Role{}, "", badRequest("claim %q not found in token", role.UserClaim)
	}
	name, ok := user.(string)
	if !ok {
		return Role{}, "", badRequest("claim %q could not be converted to string", role.UserClaim)
	}
	if name == "" {
		// Vault takes the login and then fails to make the entity alias of an empty name.
		return Role{}, "", &refusal{status: http.StatusInternalServerError, message: "missing name in alias"}
	}
	names := make([]string, 0, len(role.BoundClaims))
	for name := range role.BoundClaims {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, present := claims[name]
		if !present {
			return Role{}, "", badRequest("error validating claims: claim %q is missing", name)
		}
		if !claimMatches(got, role.BoundClaims[name]) {
			return Role{}, "", badRequest("error validating claims: claim %q does not match any associated bound claim values", name)
		}
	}
	return role, name, nil
}

// tokenProblem words a verification failure as Vault's JWT validator does.
func tokenProblem(err error) string {
	var unparsed *oidctrust.ParseError
	var mistyped *oidctrust.ClaimTypeError
	switch {
	case errors.As(err, &unparsed):
		return "error verifying token signature: oidc: malformed jwt: " + unparsed.Reason
	case errors.As(err, &mistyped):
		switch mistyped.Claim {
		case "exp", "nbf", "iat":
			return "go-jose/go-jose/jwt: expected number value to unmarshal NumericDate"
		case "aud":
			return "go-jose/go-jose/jwt: expected string or array value to unmarshal to Audience"
		}
		return fmt.Sprintf("json: cannot unmarshal %s into Go struct field Claims.%s of type string", mistyped.Got, mistyped.Claim)
	case errors.Is(err, oidctrust.ErrIssuer):
		return "invalid issuer (iss) claim"
	case errors.Is(err, oidctrust.ErrAudience):
		return "invalid audience (aud) claim: audience claim does not match any expected audience"
	case errors.Is(err, oidctrust.ErrExpired):
		switch msg := err.Error(); {
		case strings.Contains(msg, "not valid before"):
			return "invalid not before (nbf) claim: token not yet valid"
		case strings.Contains(msg, "future"):
			return "invalid issued at (iat) claim: token issued in the future"
		}
		return "invalid expiration time (exp) claim: token is expired"
	case errors.Is(err, oidctrust.ErrDiscovery):
		return "error verifying token signature: " + provider.VaultIssuerUnreachable +
			" oidc: get keys failed: the issuer's JWKS could not be fetched"
	case errors.Is(err, oidctrust.ErrMalformed):
		if strings.Contains(err.Error(), "no exp claim") {
			return "no expiration time (exp) claim in token"
		}
		return "error verifying token signature: token is malformed"
	}
	return "error verifying token signature: failed to verify id token signature"
}

// claimMatches reports whether a claim value (a string, or a list any element of which may
// match) equals one of the allowed values exactly.
func claimMatches(got any, allowed []string) bool {
	switch v := got.(type) {
	case string:
		return slices.Contains(allowed, v)
	case []any:
		for _, item := range v {
			if s, ok := item.(string); ok && slices.Contains(allowed, s) {
				return true
			}
		}
	}
	return false
}

// policiesOf is the token's policies as Vault reports them: "default" plus the role's, sorted,
// each once, in lower case, blank names left out.
func policiesOf(r Role) []string {
	out := []string{"default"}
	for _, p := range r.Policies { // Vault keeps policy names in lower case
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
