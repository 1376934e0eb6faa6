package api

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// vaultIntegrationAt is a Vault integration of space logging in to role deploy on mount jwt
// of the Vault at address.
func vaultIntegrationAt(id, space, address string) config.Integration {
	return config.Integration{ID: id, Space: space,
		Vault: &config.Vault{Address: address, Mount: "jwt", Role: "deploy"}}
}

// TestVaultIdentitySpellings: a read attachment to a Vault role that stacks elsewhere are
// attached to for write needs the run rights where those stacks are, however the Vault address
// is spelled: dot segments, escaped dots and doubled slashes in its path, its port written with
// leading zeros or left empty, and its host with a trailing dot or in capitals all log in at
// the same URL (<address>/v1/auth/jwt/login), so they are one role.
func TestVaultIdentitySpellings(t *testing.T) {
	const base = "https://vault.example.com"
	for _, spelling := range []string{base, base + "/.", base + "/x/..", base + "/%2e",
		base + ":0443", base + ":", "https://VAULT.example.com.:443//"} {
		t.Run(spelling, func(t *testing.T) {
			o := writeRightsObjects()
			o.Stacks = []config.Stack{{ID: "writer", Space: "prod"}}
			o.Integrations = []config.Integration{vaultIntegrationAt("w", "prod", base)}
			o.Attachments = []config.Attachment{{Stack: "writer", Integration: "w", Write: true}}
			before := writeRightsCatalog(t, o)

			o.Stacks = append(slices.Clone(o.Stacks), config.Stack{ID: "reader", Space: "team"})
			o.Integrations = append(slices.Clone(o.Integrations),
				vaultIntegrationAt("r", "team", spelling))
			o.Attachments = append(slices.Clone(o.Attachments),
				config.Attachment{Stack: "reader", Integration: "r", Read: true})
			after := writeRightsCatalog(t, o)

			got := newReadIntoWriteSpaces(before, after, nil)
			if !slices.Equal(got, []string{"prod"}) {
				t.Errorf("read pair into the write role via %q asks run rights in %v, want [prod]",
					spelling, got)
			}
		})
	}
}
