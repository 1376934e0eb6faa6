package server

import (
	"testing"
)

// TestTransitRestartWithoutRedisKeepsPublishedKey: on the vault-transit backend without
// store.redis, the key set's metadata is in memory; a replica restarted on the same Transit key
// takes the versions Transit holds, so the key the previous run signed with is still published
// (tokens it issued still verify) rather than replaced by a fresh version.
// Guards against: backends.go:openVaultTransit tc.Adopt = true dropped
func TestTransitRestartWithoutRedisKeepsPublishedKey(t *testing.T) {
	v, _ := startTransitVault(t)
	yaml := "issuer: http://127.0.0.1:1\nlisten: 127.0.0.1:0\nkeys:\n  backend: vault-transit\n" +
		"  algorithm: ES256\n  " + transitYAML(v.Addr()) + "\n"
	first := clockedServer(t, yaml, nil)
	kid := first.Keys().Snapshot().Signing.KID
	if err := first.Close(); err != nil {
		t.Fatalf("close the first replica: %v", err)
	}
	second := clockedServer(t, yaml, nil)
	var published []string
	for _, k := range second.Keys().Snapshot().Published {
		published = append(published, k.KID)
	}
	if got := second.Keys().Snapshot().Signing.KID; got != kid {
		t.Errorf("after a restart the replica signs with %s (publishes %v), want %s as before",
			got, published, kid)
	}
}
