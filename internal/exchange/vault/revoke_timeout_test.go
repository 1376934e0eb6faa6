package vault

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
)

// TestRevokeBoundedByIntegrationTimeout: the revocation of a Vault token broker withheld is an
// upstream call to the integration's Vault like any other, bounded by the integration's timeout:
// with 300ms, a Vault that does not answer revoke-self does not hold the revocation (and a
// stopping server waiting for it) for the default 10s.
// Guards against: vault.go Revoke bounding revoke-self by config.DefaultIntegrationTimeout.
func TestRevokeBoundedByIntegrationTimeout(t *testing.T) {
	release := make(chan struct{})
	fake := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/v1/auth/token/revoke-self" {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		loginOK(w, r, n)
	})
	defer close(release)
	in := vaultIntegration(fake.URL, func(in *config.Integration) { in.Timeout = 300 * time.Millisecond })
	ex := New(Options{HTTPClient: fastClient()})
	creds, err := ex.Exchange(context.Background(), exchange.Request{Integration: in, Tokens: &tokens{token: testJWT}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	start := time.Now()
	go func() { ex.Revoke(context.Background(), in, creds); close(done) }()
	select {
	case <-done:
		t.Logf("revoke gave up after %s", time.Since(start))
	case <-time.After(3 * time.Second):
		t.Errorf("revoke-self still waiting after 3s, with the integration's timeout at %s", in.Timeout)
	}
}
