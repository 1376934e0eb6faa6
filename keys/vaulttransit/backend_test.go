package vaulttransit_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// The Backend contract on a real Vault, the metadata in memory.
func TestBackendMemoryMeta(t *testing.T) {
	v, token := startVault(t)
	keystest.TestBackend(t, func(t *testing.T) keys.Backend {
		return newBackend(t, v, token, vaulttransit.Config{})
	})
}

// The Backend contract on a real Vault, the metadata in a real Redis.
func TestBackendRedisMeta(t *testing.T) {
	v, token := startVault(t)
	r := redistest.Start(t)
	n := 0
	keystest.TestBackend(t, func(t *testing.T) keys.Backend {
		n++
		c, err := redisstore.Open(redisstore.Options{URL: r.URL(), Prefix: "t" + string(rune('a'+n)) + ":"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return newBackend(t, v, token, vaulttransit.Config{Meta: c.TransitMeta()})
	})
}
