package emulator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/config"
	vaultemu "github.com/brokerhq/broker/internal/emulator/vault"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/trust"
)

// VaultPath is where Set's HTTP handler serves the Vault emulator; a Vault integration's
// address is http://<emulator>/vault.
const VaultPath = "/vault"

// vaultRoleKey names one Vault JWT role: its mount and its name.
type vaultRoleKey struct{ mount, role string }

// vaultTrust enables a JWT auth mount for every mount the Vault integrations name, with one
// role per (mount, role) holding exactly what `broker trust vault` prints for each attachment
// that logs in to it. Attachments sharing a role are merged into one role's bound_claims value
// lists only when that accepts no other (stack, scope) than theirs; otherwise the role is left
// out with a note, so the emulator never trusts more than broker's attachments.
func (s *Set) vaultTrust(cfg *config.Config, ats []attachment) vaultemu.Config {
	var order []vaultRoleKey
	rendered := map[vaultRoleKey][]trust.VaultRole{}
	owners := map[vaultRoleKey][]string{}
	for _, at := range ats {
		v := at.integration.Vault
		key := vaultRoleKey{mount: strings.Trim(v.Mount, "/"), role: v.Role}
		if key.mount == "" {
			key.mount = config.DefaultVaultMount
		}
		if key.role == "" {
			s.Notes = appendNew(s.Notes, fmt.Sprintf("integration %s: a mount's default role is not emulated; name the Vault role", at.integration.ID))
			continue
		}
		doc, err := trust.Render(cfg, trust.Request{Provider: exchange.Vault, Stack: at.stack, Scope: at.scope, Integration: at.integration.ID})
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("integration %s: %v", at.integration.ID, err))
			continue
		}
		role, ok := doc.(trust.VaultRole)
		if !ok {
			continue
		}
		if _, seen := rendered[key]; !seen {
			order = append(order, key)
		}
		rendered[key] = append(rendered[key], role)
		owners[key] = appendNew(owners[key], at.integration.ID)
	}
	var out vaultemu.Config
	mounts := map[string]int{}
	for _, key := range order {
		role, err := mergeVaultRoles(key.role, rendered[key])
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("integrations %s: Vault role %q on mount %s is not emulated: %v",
				strings.Join(owners[key], ", "), key.role, key.mount, err))
			continue
		}
		i, ok := mounts[key.mount]
		if !ok {
			i = len(out.Mounts)
			mounts[key.mount] = i
			out.Mounts = append(out.Mounts, vaultemu.Mount{Path: key.mount, BoundIssuer: cfg.Issuer})
		}
		out.Mounts[i].Roles = append(out.Mounts[i].Roles, role)
	}
	return out
}

// mergeVaultRoles makes one role of the roles rendered for the attachments using it. They must
// agree on everything but their bound claims, and the merged value lists must accept exactly
// the rendered combinations.
func mergeVaultRoles(name string, docs []trust.VaultRole) (vaultemu.Role, error) {
	first := docs[0]
	ttl, err := time.ParseDuration(first.TokenTTL)
	if err != nil {
		return vaultemu.Role{}, fmt.Errorf("token_ttl %q: %w", first.TokenTTL, err)
	}
	role := vaultemu.Role{
		Name: name, BoundAudiences: slices.Clone(first.BoundAudiences), UserClaim: first.UserClaim,
		BoundClaims: map[string][]string{}, Policies: slices.Clone(first.TokenPolicies), TTL: ttl,
	}
	combos := map[string]bool{}
	for _, d := range docs {
		if !slices.Equal(d.BoundAudiences, first.BoundAudiences) || d.UserClaim != first.UserClaim ||
			!slices.Equal(d.TokenPolicies, first.TokenPolicies) || d.TokenTTL != first.TokenTTL {
			return vaultemu.Role{}, fmt.Errorf("its attachments need different audiences, policies or TTLs")
		}
		if !slices.Equal(slices.Sorted(maps.Keys(d.BoundClaims)), slices.Sorted(maps.Keys(first.BoundClaims))) {
			return vaultemu.Role{}, fmt.Errorf("its attachments bind different claims")
		}
		var combo []string
		for _, k := range slices.Sorted(maps.Keys(d.BoundClaims)) {
			role.BoundClaims[k] = appendNew(role.BoundClaims[k], d.BoundClaims[k])
			combo = append(combo, k+"="+d.BoundClaims[k])
		}
		combos[strings.Join(combo, "\x00")] = true
	}
	accepted := 1
	for _, values := range role.BoundClaims {
		accepted *= len(values)
	}
	if accepted != len(combos) {
		return vaultemu.Role{}, fmt.Errorf("one role's bound_claims would accept stacks or scopes not attached to it")
	}
	return role, nil
}
