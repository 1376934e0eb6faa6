package vaulttransit_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// slowKeyWrites delays every call that makes Vault create a Transit key or key version
// (POST <mount>/keys/<name> and .../rotate) by delay, as a busy Vault generating a key does, and
// carries every call to Vault.
type slowKeyWrites struct{ delay time.Duration }

func (p slowKeyWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/"+mount+"/keys/") {
		select {
		case <-time.After(p.delay):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestKeyCreationOutlastsTimeout pins that a call creating a Transit key or rotating it is bounded
// by MinKeyTimeout, not by the shorter Config.Timeout: with a 200ms timeout and a Vault that takes
// 600ms to create a key and to rotate it, Generate still returns version 1 and then version 2.
// Nor does the Vault client's own timeout (VAULT_CLIENT_TIMEOUT, here 100ms) cut either call short.
// Guards against: vcfg.Timeout set to Config.Timeout, or left to the environment, in
// client.go:newClient
// Guards against: max(b.cfg.Timeout, MinKeyTimeout) replaced by b.cfg.Timeout in
// transit.go:newVersion (create)
// Guards against: max(b.cfg.Timeout, MinKeyTimeout) replaced by b.cfg.Timeout in
// transit.go:newVersion (rotate)
func TestKeyCreationOutlastsTimeout(t *testing.T) {
	ctx := context.Background()
	t.Setenv("VAULT_CLIENT_TIMEOUT", "100ms")
	v, token := startVault(t)
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256, Timeout: 200 * time.Millisecond,
		Transport: slowKeyWrites{delay: 600 * time.Millisecond}})
	for i := 1; i <= 2; i++ {
		if _, err := b.Generate(ctx, keys.ES256, time.Now()); err != nil {
			t.Fatalf("Generate #%d with a Vault that takes 600ms to make a key version (Config.Timeout 200ms, MinKeyTimeout %s): %v",
				i, vaulttransit.MinKeyTimeout, err)
		}
	}
}
