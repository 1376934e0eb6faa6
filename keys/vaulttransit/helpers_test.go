package vaulttransit_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/vaulttest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// mount is where the tests enable Transit.
const mount = "transit"

// keySeq numbers the Transit keys of a test binary, so each backend starts from none.
var keySeq atomic.Int64

func uniqueKey() string { return fmt.Sprintf("broker-t%d", keySeq.Add(1)) }

// startVault runs a dev server with Transit at mount and returns it with a token that may use
// only the Transit keys broker-*.
func startVault(t testing.TB) (*vaulttest.Server, string) {
	t.Helper()
	v := vaulttest.Start(t)
	v.EnableTransit(t, mount)
	return v, v.TransitToken(t, mount, "broker-", vaulttest.TokenOptions{TTL: time.Hour})
}

// newBackend opens a backend on cfg (Address, Mount and Token defaulted from v), closed when t
// ends.
func newBackend(t testing.TB, v *vaulttest.Server, token string, cfg vaulttransit.Config) *vaulttransit.Backend {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = v.Addr()
	}
	if cfg.Mount == "" {
		cfg.Mount = mount
	}
	if cfg.Key == "" {
		cfg.Key = uniqueKey()
	}
	if cfg.Token == "" {
		cfg.Token = token
	}
	b, err := vaulttransit.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("vaulttransit.New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}
