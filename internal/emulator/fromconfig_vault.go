package emulator

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/brokerhq/broker/internal/config"
	vaultemu "github.com/brokerhq/broker/internal/emulator/vault"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/trust"
)

// VaultPath is where Set's HTTP handler serves the Vault emulator; a Vault integration's
// address is http://<emulator>/vault.
const VaultPath = "/vault"

// vaultTrust enables a JWT auth mount for every mount the Vault integrations name, with one
// role per (mount, role) holding exactly what `broker trust vault` prints for it: every
// attachment logging in to a role shares the one document, whose bound_claims accept exactly
// their (stack, scope) pairs. A role that cannot (trust.ErrRoleTooBroad) is left out with a
// note, so the emulator never trusts more than broker's attachments. The emulator is one Vault
// server: roles of one mount and name that integrations place on different servers or
// namespaces are two roles, and only the first of them is emulated.
func (s *Set) vaultTrust(cfg *config.Config, ats []attachment) vaultemu.Config {
	var out vaultemu.Config
	mounts := map[string]int{}
	seen := map[trust.VaultRoleKey]bool{}
	served := map[[2]string]trust.VaultRoleKey{}
	for _, at := range ats {
		key := trust.VaultRoleKeyOf(at.integration)
		if key.Role == "" {
			s.Notes = appendNew(s.Notes, fmt.Sprintf("integration %s: a mount's default role is not emulated; name the Vault role", at.integration.ID))
			continue
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if first, ok := served[[2]string{key.Mount, key.Role}]; ok {
			s.Notes = append(s.Notes, fmt.Sprintf("integration %s: Vault role %q on mount %s is not emulated: the emulator already serves the role of that name of %s (namespace %q)",
				at.integration.ID, key.Role, key.Mount, first.Address, first.Namespace))
			continue
		}
		served[[2]string{key.Mount, key.Role}] = key
		doc, leftOut, err := trust.RenderNotes(cfg, trust.Request{Provider: exchange.Vault, Stack: at.stack, Scope: at.scope, Integration: at.integration.ID})
		s.noteLeftOut(fmt.Sprintf("Vault role %q on mount %s", key.Role, key.Mount), leftOut)
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("integration %s: Vault role %q on mount %s is not emulated: %v", at.integration.ID, key.Role, key.Mount, err))
			continue
		}
		role, err := emulatedRole(key.Role, doc.(trust.VaultRole))
		if err != nil {
			s.Notes = append(s.Notes, fmt.Sprintf("integration %s: %v", at.integration.ID, err))
			continue
		}
		i, ok := mounts[key.Mount]
		if !ok {
			i = len(out.Mounts)
			mounts[key.Mount] = i
			out.Mounts = append(out.Mounts, vaultemu.Mount{Path: key.Mount, BoundIssuer: cfg.Issuer})
		}
		out.Mounts[i].Roles = append(out.Mounts[i].Roles, role)
	}
	return out
}

// emulatedRole is the emulator's role for doc, named name.
func emulatedRole(name string, doc trust.VaultRole) (vaultemu.Role, error) {
	ttl, err := time.ParseDuration(doc.TokenTTL)
	if err != nil {
		return vaultemu.Role{}, fmt.Errorf("token_ttl %q: %w", doc.TokenTTL, err)
	}
	role := vaultemu.Role{
		Name: name, BoundAudiences: slices.Clone(doc.BoundAudiences), UserClaim: doc.UserClaim,
		BoundClaims: map[string][]string{}, Policies: slices.Clone(doc.TokenPolicies), TTL: ttl,
	}
	for _, k := range slices.Sorted(maps.Keys(doc.BoundClaims)) {
		switch v := doc.BoundClaims[k].(type) {
		case string:
			role.BoundClaims[k] = []string{v}
		case []string:
			role.BoundClaims[k] = slices.Clone(v)
		default:
			return vaultemu.Role{}, fmt.Errorf("bound claim %s is a %T", k, v)
		}
	}
	return role, nil
}
