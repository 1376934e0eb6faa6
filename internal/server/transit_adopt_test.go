package server

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
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

// TestTransitAdoptedScheduleFollowsRotationPolicy: a replica without store.redis adopts the
// versions its Transit key holds on the schedule of the configured rotation policy. A version
// rotated in Vault after broker's own is published at once and signs only Prepublish plus
// Prepublish plus Retain after its creation; until then the version before it signs.
// Guards against: backends.go:openVaultTransit Retain or Prepublish not given to the backend
func TestTransitAdoptedScheduleFollowsRotationPolicy(t *testing.T) {
	v, root := startTransitVault(t)
	yaml := "issuer: http://127.0.0.1:1\nlisten: 127.0.0.1:0\nkeys:\n  backend: vault-transit\n" +
		"  algorithm: ES256\n  rotation: {period: 720h, prepublish: 1h, retain: 24h}\n  " +
		transitYAML(v.Addr()) + "\n"
	first := clockedServer(t, yaml, nil)
	kid := first.Keys().Snapshot().Signing.KID
	if err := first.Close(); err != nil {
		t.Fatalf("close the first replica: %v", err)
	}
	_, err := root.Logical().WriteWithContext(context.Background(),
		"transit/keys/"+transitKey+"/rotate", nil)
	if err != nil {
		t.Fatalf("rotate the Transit key in Vault: %v", err)
	}
	rotated := time.Now()
	for _, c := range []struct {
		after       time.Duration
		firstSigns  bool
		description string
	}{
		{25*time.Hour + 30*time.Minute, true, "half an hour before 1h+1h+24h"},
		{26*time.Hour + time.Minute, false, "a minute after 1h+1h+24h"},
	} {
		srv := clockedServer(t, yaml, func() time.Time { return rotated.Add(c.after) })
		snap := srv.Keys().Snapshot()
		published := map[string]bool{}
		for _, k := range snap.Published {
			if k.Alg == keys.ES256 {
				published[k.KID] = true
			}
		}
		if len(published) != 2 || !published[kid] || !published[snap.Signing.KID] {
			t.Errorf("%s: ES256 keys published %v, want the first key %s and the rotated version",
				c.description, published, kid)
		}
		if got := snap.Signing.KID == kid; got != c.firstSigns {
			t.Errorf("%s: the first key signs: %v, want %v", c.description, got, c.firstSigns)
		}
		if err := srv.Close(); err != nil {
			t.Fatalf("%s: close: %v", c.description, err)
		}
	}
}
