package config

import "github.com/brokerhq/broker/internal/provider"

// Providers an integration may target, as Integration.Provider returns them (package provider's
// names).
const (
	ProviderAWS   = provider.AWS
	ProviderGCP   = provider.GCP
	ProviderAzure = provider.Azure
	ProviderVault = provider.Vault
)

// Provider returns "aws", "gcp", "azure" or "vault" after the block that is set, or "" when
// none is (which Validate refuses). When several are set it returns the first in that order.
func (i Integration) Provider() string {
	switch {
	case i.AWS != nil:
		return ProviderAWS
	case i.GCP != nil:
		return ProviderGCP
	case i.Azure != nil:
		return ProviderAzure
	case i.Vault != nil:
		return ProviderVault
	}
	return ""
}

// providers lists the provider blocks that are set.
func (i Integration) providers() []string {
	var out []string
	if i.AWS != nil {
		out = append(out, ProviderAWS)
	}
	if i.GCP != nil {
		out = append(out, ProviderGCP)
	}
	if i.Azure != nil {
		out = append(out, ProviderAzure)
	}
	if i.Vault != nil {
		out = append(out, ProviderVault)
	}
	return out
}

// Space returns the space with the given id.
func (c *Config) Space(id string) (Space, bool) {
	for _, s := range c.Spaces {
		if s.ID == id {
			return s, true
		}
	}
	return Space{}, false
}

// Stack returns the stack with the given id.
func (c *Config) Stack(id string) (Stack, bool) {
	for _, s := range c.Stacks {
		if s.ID == id {
			return s, true
		}
	}
	return Stack{}, false
}

// Integration returns the integration with the given id.
func (c *Config) Integration(id string) (Integration, bool) {
	for _, in := range c.Integrations {
		if in.ID == id {
			return in, true
		}
	}
	return Integration{}, false
}

// Role returns the role with the given id.
func (c *Config) Role(id string) (Role, bool) {
	for _, r := range c.Roles {
		if r.ID == id {
			return r, true
		}
	}
	return Role{}, false
}

// APIKey returns the API key with the given id.
func (c *Config) APIKey(id string) (APIKey, bool) {
	for _, k := range c.APIKeys {
		if k.ID == id {
			return k, true
		}
	}
	return APIKey{}, false
}

// spaceIndex maps each space id to its space (the first one, should ids repeat).
func (c *Config) spaceIndex() map[string]Space {
	idx := make(map[string]Space, len(c.Spaces))
	for _, s := range c.Spaces {
		if _, ok := idx[s.ID]; !ok {
			idx[s.ID] = s
		}
	}
	return idx
}

// UsableSpaces returns the spaces whose integrations a stack in space may use, nearest first:
// space itself, then, while the space reached has inherit: true and a parent, that parent.
// The last space listed is the first one met that does not inherit (or has no parent). It
// returns nil when space does not exist.
func (c *Config) UsableSpaces(space string) []string {
	return usableSpaces(c.spaceIndex(), space)
}

// usableSpaces is UsableSpaces over a prepared index.
func usableSpaces(idx map[string]Space, space string) []string {
	cur, ok := idx[space]
	if !ok {
		return nil
	}
	usable := []string{cur.ID}
	seen := map[string]bool{cur.ID: true}
	for cur.Inherit && cur.Parent != "" {
		p, ok := idx[cur.Parent]
		if !ok || seen[p.ID] {
			break
		}
		seen[p.ID] = true
		usable = append(usable, p.ID)
		cur = p
	}
	return usable
}

// SpacePath returns the ids of the spaces from root down to space (the {spacePath} placeholder
// joins them with "/"). It returns nil when space does not exist or does not reach root.
func (c *Config) SpacePath(space string) []string {
	idx := c.spaceIndex()
	var rev []string
	seen := map[string]bool{}
	for id := space; ; {
		s, ok := idx[id]
		if !ok || seen[id] {
			return nil
		}
		seen[id] = true
		rev = append(rev, id)
		if s.Parent == "" {
			if id != RootSpace {
				return nil
			}
			break
		}
		id = s.Parent
	}
	out := make([]string, len(rev))
	for i, id := range rev {
		out[len(rev)-1-i] = id
	}
	return out
}

// IsWithin reports whether space is ancestor itself or lies in its subtree (a role binding on
// ancestor covers space).
func (c *Config) IsWithin(space, ancestor string) bool {
	for _, id := range c.SpacePath(space) {
		if id == ancestor {
			return true
		}
	}
	return false
}

// ObjectCount is the number of catalog objects (spaces, stacks, integrations, attachments,
// roles and API keys).
func (c *Config) ObjectCount() int {
	return len(c.Spaces) + len(c.Stacks) + len(c.Integrations) + len(c.Attachments) + len(c.Roles) + len(c.APIKeys)
}

// TokenAudience is the `aud` of the broker ID tokens this integration's exchange sends: its
// audience when set, else its provider's default (provider.Audience).
func (i Integration) TokenAudience() string {
	var wip string
	if i.GCP != nil {
		wip = i.GCP.WorkloadIdentityProvider
	}
	return provider.Audience(i.Provider(), i.Audience, wip)
}
