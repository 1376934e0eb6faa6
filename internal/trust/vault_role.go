package trust

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/config"
)

// ErrRoleTooBroad: the attachments that log in to one Vault role cannot share its bound claims
// without the role accepting a stack or scope that is not attached to it.
var ErrRoleTooBroad = errors.New("one role's bound_claims would accept stacks or scopes not attached to it; give these attachments Vault roles of their own")

// VaultRoleKey names one Vault JWT role: the Vault server, its namespace, the mount and the
// role's name. Roles of the same name on two servers or in two namespaces are two roles.
type VaultRoleKey struct{ Address, Namespace, Mount, Role string }

// VaultRoleKeyOf is the role integration in logs in to. Vault's JWT auth keeps role names in
// lower case ("Deploy" and "deploy" are one role), and so does the key; one server spelled two
// ways (scheme or host in capitals, the scheme's default port written out) is one server.
func VaultRoleKeyOf(in config.Integration) VaultRoleKey {
	mount := strings.Trim(in.Vault.Mount, "/")
	if mount == "" {
		mount = config.DefaultVaultMount
	}
	return VaultRoleKey{
		Address:   serverOf(in.Vault.Address),
		Namespace: strings.Trim(in.Vault.Namespace, "/"),
		Mount:     mount,
		Role:      strings.ToLower(in.Vault.Role),
	}
}

// VaultRole is the Vault JWT auth role `broker trust vault` prints: what Render returns for
// the Vault provider. `vault write auth/<mount>/role/<role>` updates a role in place and keeps
// every field its input leaves out, so the role sets each field that could widen what its
// tokens get or how long they live, or which JWT logs in, to broker's own value: installed over
// a role an earlier setup or a hand edit left, it keeps none of that role's settings. Setting a
// field also clears its deprecated twin (token_period clears period, token_bound_cidrs
// bound_cidrs, and so on). token_no_default_policy is left as it is: a new role's tokens carry
// Vault's default policy, which lets a Vault client (Terraform's provider) look up and renew
// its own token.
type VaultRole struct {
	// RoleType is always "jwt".
	RoleType string `json:"role_type"`
	// BoundAudiences holds the audience of the integration's tokens.
	BoundAudiences []string `json:"bound_audiences"`
	// BoundSubject is empty: the bound claims, not the sub, say who may log in.
	BoundSubject string `json:"bound_subject"`
	// UserClaim is the claim Vault names the user by.
	UserClaim string `json:"user_claim"`
	// UserClaimJSONPointer is false: UserClaim is a claim's name, not a JSON pointer.
	UserClaimJSONPointer bool `json:"user_claim_json_pointer"`
	// BoundClaimsType is "string": bound claims match exactly, never as globs.
	BoundClaimsType string `json:"bound_claims_type"`
	// BoundClaims must match the token's claims exactly: the stack's space, caller and scope;
	// a claim whose value is a list accepts any of its values (see vaultRole).
	BoundClaims map[string]any `json:"bound_claims"`
	// ClaimMappings is empty: no claim becomes token metadata a templated policy could read.
	ClaimMappings map[string]string `json:"claim_mappings"`
	// GroupsClaim is empty: no claim names identity groups, whose policies the token would get.
	GroupsClaim string `json:"groups_claim"`
	// ClockSkewLeeway is Vault's default, 60 seconds: a JWT is accepted at most that long past
	// its exp (or before its nbf or iat).
	ClockSkewLeeway int `json:"clock_skew_leeway"`
	// ExpirationLeeway is -1, none: it only stands in for a missing exp (Vault's 0 means 150
	// seconds), which broker's tokens always carry.
	ExpirationLeeway int `json:"expiration_leeway"`
	// NotBeforeLeeway is -1, none: it only stands in for a missing nbf and iat.
	NotBeforeLeeway int `json:"not_before_leeway"`
	// TokenPolicies are the policies the Vault token gets (Vault adds its default policy).
	TokenPolicies []string `json:"token_policies"`
	// TokenType is "service": a renewable token that can make child tokens, as Terraform's
	// Vault provider does; "default" would be whatever the mount is tuned to.
	TokenType string `json:"token_type"`
	// TokenTTL is the Vault token's lifetime, as a Go duration.
	TokenTTL string `json:"token_ttl"`
	// TokenMaxTTL is the most the token can live however it is renewed: TokenTTL, so that no
	// worker keeps it past the integration's duration (or its run's end) by renewing it.
	TokenMaxTTL string `json:"token_max_ttl"`
	// TokenExplicitMaxTTL is TokenTTL too. TokenMaxTTL alone bounds renewals only as long as
	// the role stays as printed; the explicit maximum is fixed into each token when it is
	// issued, holds for a periodic token too, and no later change of the role or the mount
	// lengthens it.
	TokenExplicitMaxTTL string `json:"token_explicit_max_ttl"`
	// TokenPeriod is "0s": a periodic token renews without end, whatever TokenMaxTTL says.
	TokenPeriod string `json:"token_period"`
	// TokenNumUses is 0: the token is not limited to a number of uses.
	TokenNumUses int `json:"token_num_uses"`
	// TokenBoundCIDRs is empty: the token is usable from any address, as broker's workers are.
	TokenBoundCIDRs []string `json:"token_bound_cidrs"`
}

// vault is the role for t's one attachment (stack and scope): single-valued bound claims.
// Maps and lists are empty, never nil, so each is written out and replaces what the role held.
func (t *target) vault() VaultRole {
	ttl := vaultSeconds(t.integration.Duration)
	return VaultRole{
		RoleType:        "jwt",
		BoundAudiences:  []string{t.integration.TokenAudience()},
		UserClaim:       "sub",
		BoundClaimsType: "string",
		BoundClaims: map[string]any{
			"spaceId": t.stack.Space, "callerType": "stack", "callerId": t.stack.ID, "scope": string(t.req.Scope),
		},
		ClaimMappings:       map[string]string{},
		ClockSkewLeeway:     60,
		ExpirationLeeway:    -1,
		NotBeforeLeeway:     -1,
		TokenPolicies:       []string{t.integration.Vault.Role},
		TokenType:           "service",
		TokenTTL:            ttl,
		TokenMaxTTL:         ttl,
		TokenExplicitMaxTTL: ttl,
		TokenPeriod:         "0s",
		TokenBoundCIDRs:     []string{},
	}
}

// vaultRole is the one Vault role t's integration logs in to, as every attachment using it
// needs it: installing the role for one attachment replaces it for the others, so the role
// printed for any of them accepts each (stack, scope) attached to it, and nothing else. Claims
// that differ between them become lists; when such lists would accept a combination no
// attachment has (two stacks in two scopes each one way), it fails with ErrRoleTooBroad.
func (r *resolver) vaultRole(t *target) (VaultRole, error) {
	key := VaultRoleKeyOf(t.integration)
	all, err := r.sharing(t, func(in config.Integration) bool { return VaultRoleKeyOf(in) == key })
	if err != nil {
		return VaultRole{}, err
	}
	docs := make([]VaultRole, 0, len(all))
	for _, o := range all {
		docs = append(docs, o.vault())
	}
	return mergeVaultRoles(docs)
}

// mergeVaultRoles makes one role of docs, which must agree on everything but their bound
// claims; the merged claims must accept exactly the combinations of docs.
func mergeVaultRoles(docs []VaultRole) (VaultRole, error) {
	first := docs[0]
	claims := map[string][]string{}
	combos := map[string]bool{}
	for _, d := range docs {
		if !reflect.DeepEqual(withoutClaims(d), withoutClaims(first)) {
			return VaultRole{}, fmt.Errorf("its attachments need different audiences, policies or TTLs: give them Vault roles of their own")
		}
		var combo []string
		for _, k := range slices.Sorted(maps.Keys(d.BoundClaims)) {
			v := fmt.Sprint(d.BoundClaims[k])
			if !slices.Contains(claims[k], v) {
				claims[k] = append(claims[k], v)
			}
			combo = append(combo, k+"="+v)
		}
		combos[strings.Join(combo, "\x00")] = true
	}
	accepted := 1
	for _, values := range claims {
		accepted *= len(values)
	}
	if accepted != len(combos) {
		return VaultRole{}, ErrRoleTooBroad
	}
	out := first
	out.BoundClaims = make(map[string]any, len(claims))
	for k, values := range claims {
		if len(values) == 1 {
			out.BoundClaims[k] = values[0]
		} else {
			out.BoundClaims[k] = values
		}
	}
	return out, nil
}

// withoutClaims is d with no bound claims: what every attachment sharing one role must agree on.
func withoutClaims(d VaultRole) VaultRole {
	d.BoundClaims = nil
	return d
}

// serverOf is address as one server's name, the same for every spelling that logs in at the
// same place: scheme and host in lower case, the host without a trailing dot; the port as a
// number, without the scheme's default (an empty port is the default, and "0443" is 443); the
// path cleaned of dot segments, doubled and trailing slashes (the Vault client joins it with
// each request's path), its escapes decoded. An address that does not parse stays as written.
func serverOf(address string) string {
	u, err := url.Parse(strings.TrimRight(address, "/"))
	if err != nil || u.Host == "" {
		return strings.TrimRight(address, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if n, err := strconv.ParseUint(port, 10, 16); err == nil {
		port = strconv.FormatUint(n, 10)
	}
	if port == "" || (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		u.Host = host
		if strings.Contains(host, ":") {
			u.Host = "[" + host + "]"
		}
	} else {
		u.Host = net.JoinHostPort(host, port)
	}
	u.Path = strings.TrimRight(path.Clean("/"+u.Path), "/")
	u.RawPath = ""
	return u.String()
}

// vaultSeconds is d as a Vault TTL: whole seconds, rounded up, since Vault reads a TTL in whole
// seconds and takes 0 for the mount's default lifetime; "1h" when d is not set.
func vaultSeconds(d time.Duration) string {
	if d <= 0 {
		return "1h"
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
}
