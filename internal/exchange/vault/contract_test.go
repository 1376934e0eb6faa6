package vault

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	vaultemu "github.com/brokerhq/broker/internal/emulator/vault"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/exchangetest"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// vaultErrors is Vault's error document.
func vaultErrors(status int, messages ...string) exchangetest.Fault {
	body, _ := json.Marshal(map[string][]string{"errors": messages})
	return exchangetest.Fault{Status: status, ContentType: "application/json", Body: string(body)}
}

// contractTokens signs run tokens for the contract's Vault role with the test issuer.
type contractTokens struct {
	t   *testing.T
	iss *oidctest.Issuer
}

func (c contractTokens) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	return c.iss.Sign(c.t, oidctest.Token{Claims: map[string]any{
		"sub": "space:root:stack:vpc:run_type:TRACKED:scope:read", "aud": req.Audience, "callerId": "vpc",
	}}), nil
}

func TestContract(t *testing.T) {
	exchangetest.Run(t, exchangetest.Harness{
		Provider: exchange.Vault,
		Start: func(t *testing.T, env exchangetest.Env) (exchange.Exchanger, exchange.Request) {
			iss := oidctest.Start(t)
			emu := vaultemu.New(vaultemu.Config{Mounts: []vaultemu.Mount{{Path: "jwt", BoundIssuer: iss.URL,
				Roles: []vaultemu.Role{{Name: "ci-read", BoundAudiences: []string{DefaultAudience}, UserClaim: "sub",
					BoundClaims: map[string][]string{"callerId": {"vpc"}}, Policies: []string{"ci-read"}, TTL: time.Hour}}}}})
			srv := httptest.NewServer(env.Faults.Wrap(emu))
			t.Cleanup(srv.Close)
			x := New(Options{Logger: env.Logger, HTTPClient: exchange.NewHTTPClient(exchange.ClientOptions{
				Base: srv.Client().Transport, Backoff: time.Millisecond})})
			in := config.Integration{ID: "vault-ci", Vault: &config.Vault{Address: srv.URL, Role: "ci-read"}}
			return x, exchange.Request{Run: runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
				Integration: in, Tokens: contractTokens{t: t, iss: iss}}
		},
		Target: func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/login")
		},
		Refusal:  func(message string) exchangetest.Fault { return vaultErrors(http.StatusForbidden, message) },
		Throttle: vaultErrors(http.StatusTooManyRequests, "request path \"auth/jwt/login\": rate limit quota exceeded"),
		Holds: func(t *testing.T, creds exchange.Credentials) bool {
			req, err := http.NewRequest(http.MethodGet, creds.Env[EnvAddr]+"/v1/auth/token/lookup-self", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Vault-Token", creds.Env[EnvToken])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		},
	})
}
