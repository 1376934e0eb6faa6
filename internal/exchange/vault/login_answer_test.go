package vault

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
)

// TestLoginAnswerWithoutUsableToken: a 2xx login answer with an empty client token, or a
// negative lease, is an upstream error, even with no duration set (where no expiry is checked).
func TestLoginAnswerWithoutUsableToken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
		lease int64
	}{{"empty client token, no lease", "", 0}, {"lease -1", clientToken, -1}} {
		fake := newFakeVault(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
				"client_token": tc.token, "accessor": "a", "policies": []string{"default"}, "lease_duration": tc.lease,
			}})
		})
		x := New(Options{HTTPClient: fastClient()})
		creds, err := x.Exchange(context.Background(), exchange.Request{Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT}})
		var up *exchange.UpstreamError
		if !errors.As(err, &up) || up.Status != http.StatusOK {
			t.Errorf("%s: credentials %v (until %s), error %v; want an upstream error with status 200", tc.name, creds.Env, creds.ExpiresAt, err)
		}
	}
}

// TestExpiryFromLoginSent: the expiry broker states is counted from when the login was
// sent, so it never lies later than Vault's own, however long Vault takes to answer.
func TestExpiryFromLoginSent(t *testing.T) {
	const lease = 600
	fake := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, n int) {
		time.Sleep(1500 * time.Millisecond)
		loginOK(w, r, n)
	})
	x := New(Options{HTTPClient: fastClient()})
	before := time.Now()
	creds, err := x.Exchange(context.Background(), exchange.Request{Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT}})
	if err != nil {
		t.Fatal(err)
	}
	if latest := before.Add(lease*time.Second + 500*time.Millisecond); creds.ExpiresAt.After(latest) {
		t.Errorf("expiresAt %s is later than the login's sending plus its lease (%s)", creds.ExpiresAt.Format(time.RFC3339Nano), latest.Format(time.RFC3339Nano))
	}
}

// TestNoRedirectWithCallersClient: the exchanger follows no redirect whatever client it is
// given: a login answered with a redirect never reaches (with its broker token) the target.
func TestNoRedirectWithCallersClient(t *testing.T) {
	target := newFakeVault(t, loginOK)
	fake := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	x := New(Options{HTTPClient: &http.Client{}})
	if _, err := x.Exchange(context.Background(), exchange.Request{Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT}}); err == nil {
		t.Error("a redirected login succeeded")
	}
	if got := target.requests(); len(got) != 0 {
		t.Errorf("the redirect target received %d requests", len(got))
	}
}
