package trust

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

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
		if !slices.Equal(d.BoundAudiences, first.BoundAudiences) || d.UserClaim != first.UserClaim ||
			!slices.Equal(d.TokenPolicies, first.TokenPolicies) || d.TokenTTL != first.TokenTTL || d.TokenMaxTTL != first.TokenMaxTTL {
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

// serverOf is address as one server's name: scheme and host in lower case, without the
// scheme's default port or a trailing slash. An address that does not parse stays as written.
func serverOf(address string) string {
	u, err := url.Parse(strings.TrimRight(address, "/"))
	if err != nil || u.Host == "" {
		return strings.TrimRight(address, "/")
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		u.Host = u.Hostname()
		if strings.Contains(u.Host, ":") {
			u.Host = "[" + u.Host + "]"
		}
	}
	return u.String()
}
