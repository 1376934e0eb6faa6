package vault

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
)

// loginThenRevoke answers a login with a token of the given lease and a revocation with
// 204, as Vault does.
func loginThenRevoke(lease int64) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Path == "/v1/auth/token/revoke-self" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
			"client_token": clientToken, "accessor": "acc-1", "policies": []string{"default"},
			"lease_duration": lease,
		}})
	}
}

// TestRefusedVaultTokenIsRevoked: a Vault token that broker obtained but refuses to hand on (one
// that does not expire, one living far longer than the integration's duration, one expiring too
// soon) is revoked with itself (POST /v1/auth/token/revoke-self), the one revocation its holder may
// always make: left alive it keeps the role's policies, write included, for its whole lease (768h
// with Vault's defaults, or for ever) with nobody accountable for it in the trail.
func TestRefusedVaultTokenIsRevoked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lease    int64
		duration time.Duration
	}{
		{"no expiry", 0, 0},
		{"Vault's default 768h against 15m asked", 2764800, 15 * time.Minute},
		{"expires within MinValidity", 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeVault(t, loginThenRevoke(tc.lease))
			in := vaultIntegration(fake.URL, nil)
			in.Duration = tc.duration
			ex := New(Options{HTTPClient: fastClient()})
			req := exchange.Request{Integration: in, Tokens: &tokens{token: testJWT}}
			if _, err := ex.Exchange(context.Background(), req); err == nil {
				t.Fatal("the login was taken; want it refused")
			}
			// The refusal is answered before the revocation is sent.
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				for _, r := range fake.requests() {
					if r.Path == "/v1/auth/token/revoke-self" && r.Header.Get("X-Vault-Token") == clientToken {
						return
					}
				}
			}
			t.Errorf("the refused token was never revoked; Vault saw %d request(s)",
				len(fake.requests()))
		})
	}
}
