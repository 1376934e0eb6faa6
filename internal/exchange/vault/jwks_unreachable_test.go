package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
)

// frontTokens signs broker-shaped tokens with iss, naming issuer as their `iss`.
type frontTokens struct {
	t      testing.TB
	iss    *oidctest.Issuer
	issuer string
}

func (s *frontTokens) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	return s.iss.Sign(s.t, oidctest.Token{Claims: map[string]any{
		"iss": s.issuer, "sub": "space:root:stack:vpc-prod:run_type:TRACKED:scope:read",
		"aud": req.Audience, "jti": fmt.Sprintf("jti-%d", time.Now().UnixNano()),
		"callerId": "vpc-prod", "scope": "read",
	}}), nil
}

// TestVaultUnreachableJWKSIsNotDenied: when Vault cannot fetch broker's JWKS (broker's
// public endpoint is down), the login's failure is an outage, counted in
// broker_credentials_total as "error", never "denied", as it is for AWS, GCP and Azure.
func TestVaultUnreachableJWKSIsNotDenied(t *testing.T) {
	srv := vaulttest.Start(t)
	iss := oidctest.Start(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadJWKS := dead.URL + "/jwks"
	dead.Close() // the JWKS is unreachable: connection refused
	var front *httptest.Server
	front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": front.URL, "jwks_uri": deadJWKS,
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	}))
	defer front.Close()
	srv.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: front.URL})
	srv.WriteRole(t, "jwt", "read", map[string]any{
		"role_type": "jwt", "bound_audiences": []string{"vault"}, "user_claim": "sub",
		"token_policies": []string{"default"}, "token_ttl": "10m",
	})
	in := config.Integration{ID: "vault-ci", Space: "root", Audience: "vault",
		Vault: &config.Vault{Address: srv.Addr(), Mount: "jwt", Role: "read"}}
	src := &frontTokens{t: t, iss: iss, issuer: front.URL}
	req := exchange.Request{Integration: in, Tokens: src}
	_, err := New(Options{}).Exchange(context.Background(), req)
	if got := exchange.Classify(err); got != exchange.Error {
		t.Errorf("Vault unable to fetch broker's JWKS: %v counts as %q, want \"error\"", err, got)
	}
}
