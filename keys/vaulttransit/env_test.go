package vaulttransit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
	"github.com/brokerhq/broker/keys/vaulttransit"
)

// TestOnlyTheConfiguredAddress: keys.vault_transit.address is the one Vault broker talks to (the
// one config holds to https off loopback): a Vault Agent's address (VAULT_AGENT_ADDR), or a
// Vault proxy's (VAULT_PROXY_ADDR, VAULT_HTTP_PROXY), in broker's environment for the vault CLI
// or a sidecar does not take the Transit calls, and the Vault token, elsewhere.
func TestOnlyTheConfiguredAddress(t *testing.T) {
	for _, env := range []string{"VAULT_AGENT_ADDR", "VAULT_PROXY_ADDR", "VAULT_HTTP_PROXY"} {
		t.Run(env, func(t *testing.T) {
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			configured := &fakeVault{t: t, key: key, namespaces: map[string][]string{}}
			srv := httptest.NewServer(configured)
			t.Cleanup(srv.Close)
			var mu sync.Mutex
			var stolen []string
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				stolen = append(stolen, r.Method+" "+r.URL.String()+" X-Vault-Token="+r.Header.Get("X-Vault-Token"))
				mu.Unlock()
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"errors":["permission denied"]}`))
			}))
			t.Cleanup(other.Close)
			t.Setenv(env, other.URL)
			b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
				Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "s.the-vault-token",
			})
			if err == nil {
				t.Cleanup(func() { _ = b.Close() })
				_, _ = b.Generate(context.Background(), keys.ES256, time.Now())
			}
			mu.Lock()
			defer mu.Unlock()
			if len(stolen) > 0 {
				t.Errorf("with %s=%s the backend configured for %s sent %d request(s) there, token included: %.160s (New err: %v)",
					env, other.URL, srv.URL, len(stolen), stolen[0], err)
			}
		})
	}
}

// TestSkipVerifyNotFromEnvironment: VAULT_SKIP_VERIFY, set in broker's environment for the vault
// CLI, does not turn off the check of the certificate of the Vault that holds the signing keys:
// a Vault whose certificate no trusted CA signed is refused, and gets no token.
func TestSkipVerifyNotFromEnvironment(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := httptest.NewTLSServer(&fakeVault{t: t, key: key, namespaces: map[string][]string{}})
	t.Cleanup(srv.Close)
	if b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "s.the-vault-token",
	}); err == nil {
		_ = b.Close()
		t.Fatal("control: the untrusted Vault was accepted without VAULT_SKIP_VERIFY")
	}
	t.Setenv("VAULT_SKIP_VERIFY", "true")
	b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: srv.URL, Mount: "transit", Key: "k", Alg: keys.ES256, Token: "s.the-vault-token",
	})
	if err == nil {
		_ = b.Close()
		t.Errorf("with VAULT_SKIP_VERIFY=true the backend accepted %s, whose certificate no trusted CA signed, and sent it the Vault token", srv.URL)
	}
}

// TestProxyURLWithheld: a VAULT_PROXY_ADDR the Vault client cannot parse stops the backend
// with an error that does not quote it, password included (it reaches stderr and the logs).
func TestProxyURLWithheld(t *testing.T) {
	t.Setenv("VAULT_PROXY_ADDR", "http://ci:Pr0xyPassw0rd%zz@proxy.example.com:3128")
	b, err := vaulttransit.New(context.Background(), vaulttransit.Config{
		Address: "http://127.0.0.1:1", Mount: "transit", Key: "k", Alg: keys.ES256, Token: "s.the-vault-token",
	})
	if err == nil {
		_ = b.Close()
		t.Fatal("a proxy URL that does not parse is accepted")
	}
	if strings.Contains(err.Error(), "Pr0xy") || strings.Contains(err.Error(), "%zz") || !errors.Is(err, config.ErrURLWithheld) {
		t.Errorf("error %q: want config.ErrURLWithheld, the URL not quoted", err)
	}
}

// TestNoWrappingFromEnvironment: VAULT_WRAP_TTL, set in broker's environment for the vault
// CLI, does not make Vault wrap the backend's answers (a wrapped answer holds no key): with it
// set, a key is created, rotated and signs as without it.
func TestNoWrappingFromEnvironment(t *testing.T) {
	v, token := startVault(t)
	t.Setenv("VAULT_WRAP_TTL", "5m")
	b := newBackend(t, v, token, vaulttransit.Config{Alg: keys.ES256})
	for range 2 {
		k, err := b.Generate(context.Background(), keys.ES256, time.Now())
		if err != nil {
			t.Fatalf("Generate with VAULT_WRAP_TTL=5m in the environment: %v", err)
		}
		keystest.SignAndVerify(t, keys.ES256, k.Signer, k.Public())
	}
}
