package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/internal/testutil/vaulttest"
)

// issuerTokens mints broker-shaped ID tokens with the test issuer, for the audience asked.
type issuerTokens struct {
	t         testing.TB
	iss       *oidctest.Issuer
	scope     string
	expiresIn time.Duration
	rogue     bool
}

func (s *issuerTokens) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	sub := "space:root:stack:vpc-prod:run_type:TRACKED:scope:" + s.scope
	return s.iss.Sign(s.t, oidctest.Token{
		Claims: map[string]any{
			"sub": sub, "aud": req.Audience, "jti": fmt.Sprintf("jti-%d", time.Now().UnixNano()),
			"spaceId": "root", "callerType": "stack", "callerId": "vpc-prod",
			"runType": "TRACKED", "runId": "01J0000000000000000000TEST", "runPhase": "PLANNING", "scope": s.scope,
		},
		ExpiresIn: s.expiresIn,
		Rogue:     s.rogue,
	}), nil
}

// TestExchangeRealVault logs in to a real Vault dev server whose JWT auth method trusts the
// test issuer.
func TestExchangeRealVault(t *testing.T) {
	srv := vaulttest.Start(t)
	iss := oidctest.Start(t)
	srv.EnableJWT(t, vaulttest.JWTConfig{Mount: "jwt", DiscoveryURL: iss.URL, BoundIssuer: iss.URL})
	for _, scope := range []string{"read", "write"} {
		srv.WriteRole(t, "jwt", scope, map[string]any{
			"role_type":       "jwt",
			"bound_audiences": []string{"vault"},
			"bound_claims":    map[string]any{"callerId": "vpc-prod", "scope": scope},
			"user_claim":      "sub",
			"token_policies":  []string{"default"},
			"token_ttl":       "10m",
		})
	}

	tests := []struct {
		name      string
		role      string
		scope     string
		audience  string
		expiresIn time.Duration
		rogue     bool
		// wantMsg, when set, is a fragment of Vault's refusal; empty means the login succeeds.
		wantMsg string
	}{
		{name: "read token, read role", role: "read", scope: "read"},
		{name: "write token, write role", role: "write", scope: "write"},
		{name: "read token, write role", role: "write", scope: "read", wantMsg: "bound claim"},
		{name: "wrong audience", role: "read", scope: "read", audience: "sts.amazonaws.com", wantMsg: "aud"},
		{name: "expired token", role: "read", scope: "read", expiresIn: -time.Minute, wantMsg: "expired"},
		{name: "unknown signing key", role: "read", scope: "read", rogue: true, wantMsg: "signature"},
	}
	ex := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := config.Integration{
				ID: "vault-ci", Space: "root", Audience: tt.audience,
				Vault: &config.Vault{Address: srv.Addr(), Mount: "jwt", Role: tt.role},
			}
			src := &issuerTokens{t: t, iss: iss, scope: tt.scope, expiresIn: tt.expiresIn, rogue: tt.rogue}
			ctx := context.Background()
			start := time.Now()
			creds, err := ex.Exchange(ctx, exchange.Request{Integration: in, Tokens: src})
			if tt.wantMsg != "" {
				var up *exchange.UpstreamError
				if !errors.As(err, &up) {
					t.Fatalf("error = %v (%T), want *exchange.UpstreamError", err, err)
				}
				if up.Status != http.StatusBadRequest {
					t.Errorf("status = %d, want Vault's 400", up.Status)
				}
				if !strings.Contains(up.Message, tt.wantMsg) {
					t.Errorf("message = %q, want it to mention %q", up.Message, tt.wantMsg)
				}
				if strings.Contains(err.Error(), "eyJ") {
					t.Errorf("error holds a JWT: %v", err)
				}
				t.Logf("Vault refused: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if creds.Env[EnvAddr] != srv.Addr() || creds.Env[EnvToken] == "" {
				t.Fatalf("Env = %v", creds.Env)
			}
			if _, ok := creds.Env[EnvNamespace]; ok {
				t.Errorf("VAULT_NAMESPACE set without a namespace")
			}
			d := creds.Detail.(Detail)
			if d.LeaseDuration != 600 || !d.Renewable || !slices.Contains(d.Policies, "default") || d.Accessor == "" {
				t.Errorf("Detail = %+v", d)
			}
			if lo, hi := start.Add(599*time.Second), time.Now().Add(600*time.Second); creds.ExpiresAt.Before(lo) || creds.ExpiresAt.After(hi) {
				t.Errorf("ExpiresAt = %v, want about now+10m", creds.ExpiresAt)
			}
			assertTokenWorks(t, srv.Addr(), creds, tt.role)
		})
	}
}

// assertTokenWorks looks the token of creds up with itself at the Vault at addr and checks what
// the JWT role gave it, and that its accessor is the one in creds' Detail.
func assertTokenWorks(t *testing.T, addr string, creds exchange.Credentials, role string) {
	t.Helper()
	accessor := creds.Detail.(Detail).Accessor
	c, err := vaultapi.NewClient(&vaultapi.Config{Address: addr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(creds.Env[EnvToken])
	self, err := c.Auth().Token().LookupSelfWithContext(context.Background())
	if err != nil {
		t.Fatalf("lookup-self with VAULT_TOKEN: %v", err)
	}
	policies, err := self.TokenPolicies()
	if err != nil || !slices.Contains(policies, "default") || slices.Contains(policies, "root") {
		t.Errorf("policies = %v (%v), want default and not root", policies, err)
	}
	meta, _ := self.Data["meta"].(map[string]any)
	if meta["role"] != role {
		t.Errorf("meta = %v, want role %q", self.Data["meta"], role)
	}
	if self.Data["path"] != "auth/jwt/login" || self.Data["accessor"] != accessor {
		t.Errorf("path = %v, accessor = %v, want auth/jwt/login and %s", self.Data["path"], self.Data["accessor"], accessor)
	}
	if name, _ := self.Data["display_name"].(string); !strings.Contains(name, "vpc-prod") {
		t.Errorf("display_name = %q, want it to carry the sub (user_claim)", name)
	}
	if ttl, err := self.TokenTTL(); err != nil || ttl <= 0 || ttl > 10*time.Minute {
		t.Errorf("ttl = %v (%v), want at most 10m", ttl, err)
	}
}
