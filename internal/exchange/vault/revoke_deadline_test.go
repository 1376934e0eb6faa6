package vault

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
)

// stuckRevoke answers a login with a token that never expires (which broker refuses) and
// holds every revoke-self until release is closed: a Vault slow to revoke.
func stuckRevoke(release <-chan struct{}) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Path == "/v1/auth/token/revoke-self" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
			"client_token": clientToken, "accessor": "acc-1", "policies": []string{"write"},
			"lease_duration": 0,
		}})
	}
}

// TestRefusalKeepsTheCallersDeadline: a login answer broker refuses is refused by the
// deadline of the caller's context, whatever the revocation of its token costs. The worker
// gives an exchange the write timeout less a tenth so that its failure is answered; a refusal
// that waits for a slow revoke-self past that deadline leaves the run with a closed connection
// instead of its 502.
func TestRefusalKeepsTheCallersDeadline(t *testing.T) {
	release := make(chan struct{})
	fake := newFakeVault(t, stuckRevoke(release))
	t.Cleanup(func() { close(release) }) // before the fake's Close, which waits for handlers
	in := vaultIntegration(fake.URL, func(in *config.Integration) { in.Timeout = 3 * time.Second })
	ex := New(Options{HTTPClient: fastClient()})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ex.Exchange(ctx, exchange.Request{Integration: in, Tokens: &tokens{token: testJWT}})
	took := time.Since(start)
	if err == nil {
		t.Fatal("a token that never expires was taken; want it refused")
	}
	if took > time.Second {
		t.Errorf("the refusal came %v after the call, past its context's 300ms deadline", took)
	}
}
