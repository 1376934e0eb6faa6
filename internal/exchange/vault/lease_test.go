package vault

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
)

// TestLeaseRefused: a login whose token expires within exchange.MinValidity, or whose lease is
// beyond any date a time.Duration holds (it would wrap around to a near expiry), is an upstream
// error naming the lease, never credentials; a long lease and no lease at all are taken.
func TestLeaseRefused(t *testing.T) {
	for _, tc := range []struct {
		lease int64
		want  string // "" when the login is taken
	}{
		{5, "less than 30s from now"},
		{29, "less than 30s from now"},
		{18446744074 + 3600, "beyond any date"},
		{maxLeaseSeconds + 1, "beyond any date"},
		{3600, ""},
		{maxLeaseSeconds, ""},
		{0, ""},
	} {
		fake := newFakeVault(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
				"client_token": clientToken, "accessor": "a", "policies": []string{"default"}, "lease_duration": tc.lease,
			}})
		})
		x := exchange.Observe(New(Options{HTTPClient: fastClient()}), exchange.ObserveConfig{Provider: exchange.Vault})
		creds, err := x.Exchange(context.Background(), exchange.Request{Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT}})
		var up *exchange.UpstreamError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("lease %d: %v, want credentials", tc.lease, err)
		case tc.want != "" && (!errors.As(err, &up) || !strings.Contains(up.Message, tc.want)):
			t.Errorf("lease %d: credentials until %s, error %v; want an upstream error saying %q", tc.lease, creds.ExpiresAt, err, tc.want)
		case err != nil && strings.Contains(err.Error(), clientToken):
			t.Errorf("lease %d: the error holds the client token: %v", tc.lease, err)
		}
	}
}
