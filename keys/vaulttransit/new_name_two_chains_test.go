package vaulttransit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// twoChains is the policy broker serves with keys.algorithm ES256: an ES256 chain and the
// RS256 chain Entra ID needs (server.KeyPolicy adds exchange.RequiredAlgorithms).
var twoChains = keys.Policy{Period: 720 * time.Hour, Prepublish: time.Hour, Retain: time.Hour,
	Alg: keys.ES256, Also: []string{keys.RS256}}

// TestNewKeyNameSignsAtOnceBesideAnotherChain checks that a new Transit key name configured
// away from an exportable key signs at once also in broker's usual two-chain set (ES256, and
// RS256 for Entra ID): the chain whose Transit key was exportable signs with version 1 of its
// new Transit key at the first refresh, not a lead later, whichever of the two it is.
func TestNewKeyNameSignsAtOnceBesideAnotherChain(t *testing.T) {
	for _, alg := range []string{keys.ES256, keys.RS256} {
		t.Run(alg+" key exportable", func(t *testing.T) {
			ctx := context.Background()
			v, token := startVault(t)
			meta := vaulttransit.NewMemoryMeta()
			old := uniqueKey()
			b1 := newBackend(t, v, token,
				vaulttransit.Config{Key: old, Alg: keys.ES256, Meta: meta})
			refresh(t, newManager(t, keys.Config{Backend: b1, Policy: twoChains}))
			oldName, newName := old, uniqueKey()
			if alg == keys.RS256 {
				oldName = old + "-rs256"
			}
			makeExportable(t, v, oldName)

			b2 := newBackend(t, v, token,
				vaulttransit.Config{Key: newName, Alg: keys.ES256, Meta: meta})
			m2 := newManager(t, keys.Config{Backend: b2, Policy: twoChains})
			if _, err := m2.Refresh(ctx); err != nil {
				t.Fatalf("Refresh with the new Transit key name: %v", err)
			}
			if alg == keys.RS256 {
				newName += "-rs256"
			}
			want := transitKIDs(t, v, newName)
			got, ok := m2.Snapshot().SigningFor(alg)
			if len(want) != 1 || !ok || got.KID != want[0] {
				t.Errorf("%s signs with %q (ok %v), want version 1 of the new Transit key "+
					"%s (%v); default signing key %s (%s)", alg, got.KID, ok, newName, want,
					m2.Snapshot().Signing.KID, m2.Snapshot().Signing.Alg)
			}
		})
	}
}
