package vault

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
)

// TestLeaseRefused: a login whose token expires within exchange.MinValidity, or whose lease is
// beyond any date a time.Duration holds (it would wrap around to a near expiry), is an upstream
// error naming the lease, never credentials, and so is a token that does not expire (lease 0),
// with or without a duration; a long lease is taken. With the integration's duration set, a
// token outliving it by more than exchange.LifetimeSlack is refused too.
func TestLeaseRefused(t *testing.T) {
	for _, tc := range []struct {
		lease    int64
		duration time.Duration
		want     string // "" when the login is taken
	}{
		{5, 0, "less than 30s from now"},
		{29, 0, "less than 30s from now"},
		{18446744074 + 3600, 0, "beyond any date"},
		{maxLeaseSeconds + 1, 0, "beyond any date"},
		{3600, 0, ""},
		{maxLeaseSeconds, 0, ""},
		{0, 0, "credentials without an expiry"},
		{900, 15 * time.Minute, ""},
		{900 + 300, 15 * time.Minute, ""},
		{900 + 300 + 30, 15 * time.Minute, "later than the 15m0s asked for"},
		{2764800, 15 * time.Minute, "later than the 15m0s asked for"}, // Vault's default token_ttl, 768h
		{0, 15 * time.Minute, "credentials without an expiry"},
	} {
		fake := newFakeVault(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
				"client_token": clientToken, "accessor": "a", "policies": []string{"default"}, "lease_duration": tc.lease,
			}})
		})
		x := exchange.Observe(New(Options{HTTPClient: fastClient()}), exchange.ObserveConfig{Provider: exchange.Vault})
		in := vaultIntegration(fake.URL, nil)
		in.Duration = tc.duration
		creds, err := x.Exchange(context.Background(), exchange.Request{Integration: in, Tokens: &tokens{token: testJWT}})
		var up *exchange.UpstreamError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("lease %d, duration %s: %v, want credentials", tc.lease, tc.duration, err)
		case tc.want != "" && (!errors.As(err, &up) || !strings.Contains(up.Message, tc.want)):
			t.Errorf("lease %d, duration %s: credentials until %s, error %v; want an upstream error saying %q", tc.lease, tc.duration, creds.ExpiresAt, err, tc.want)
		case err != nil && strings.Contains(err.Error(), clientToken):
			t.Errorf("lease %d: the error holds the client token: %v", tc.lease, err)
		}
	}
}
