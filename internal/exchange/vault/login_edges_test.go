package vault

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	vaultapi "github.com/hashicorp/vault/api"
)

// deadlineTransport records the deadline of each request's context, then sends it on.
type deadlineTransport struct {
	mu        sync.Mutex
	deadlines []time.Time
}

func (p *deadlineTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	dl, ok := r.Context().Deadline()
	p.mu.Lock()
	if ok {
		p.deadlines = append(p.deadlines, dl)
	}
	p.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestLoginBoundByTheTimeout: the login call runs under a deadline of the integration's
// timeout, or of the 10s default when it sets none, never a longer one or none at all.
// Guards against: Vault client timeout widened (2*timeout)
// Guards against: integration timeout taken as is, without exchange.Timeout's default (no deadline)
func TestLoginBoundByTheTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout, want time.Duration
	}{
		{time.Minute, time.Minute},
		{0, config.DefaultIntegrationTimeout},
	} {
		fake := newFakeVault(t, loginOK)
		rt := &deadlineTransport{}
		in := vaultIntegration(fake.URL, func(in *config.Integration) { in.Timeout = tc.timeout })
		before := time.Now()
		_, err := New(Options{HTTPClient: &http.Client{Transport: rt}}).Exchange(
			context.Background(),
			exchange.Request{Integration: in, Tokens: &tokens{token: testJWT}})
		if err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		rt.mu.Lock()
		if len(rt.deadlines) != 1 || rt.deadlines[0].Before(before.Add(tc.want)) ||
			rt.deadlines[0].After(after.Add(tc.want)) {
			t.Errorf("timeout %s: login deadlines %v, want one %s after the call began",
				tc.timeout, rt.deadlines, tc.want)
		}
		rt.mu.Unlock()
	}
}

// TestForeignAnswerEchoScrubbed: an answer that is not Vault's JSON and quotes the broker
// token (not shaped like a JWT, so only its value can find it) never passes it to the caller.
// Guards against: the broker token not given to foreignAnswer by Exchange
func TestForeignAnswerEchoScrubbed(t *testing.T) {
	fake := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<html>no entry for " + opaqueSecret + "</html>"))
	})
	_, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(),
		exchange.Request{Integration: vaultIntegration(fake.URL, nil),
			Tokens: &tokens{token: opaqueSecret}})
	var up *exchange.UpstreamError
	if !errors.As(err, &up) || up.Status != http.StatusUnauthorized {
		t.Fatalf("error %v, want Vault's 401 as an upstream error", err)
	}
	if strings.Contains(err.Error(), opaqueSecret) || !strings.Contains(up.Message, "[redacted]") {
		t.Errorf("error %v, want the broker token redacted", err)
	}
}

// TestEnvironmentTLSIgnoredWithBareClient: a caller's client without a transport logs in
// over net/http's default transport, not one the Vault client builds from broker's own
// environment: VAULT_SKIP_VERIFY does not turn off certificate checks for a login carrying a
// broker token.
// Guards against: nil Transport of the caller's client left for vaultapi.NewClient to fill in
func TestEnvironmentTLSIgnoredWithBareClient(t *testing.T) {
	t.Setenv("VAULT_SKIP_VERIFY", "true")
	login := func(w http.ResponseWriter, r *http.Request) { loginOK(w, r, 1) }
	srv := httptest.NewUnstartedServer(http.HandlerFunc(login))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, err := New(Options{HTTPClient: &http.Client{}}).Exchange(context.Background(),
		exchange.Request{Integration: vaultIntegration(srv.URL, nil),
			Tokens: &tokens{token: testJWT}})
	var up *exchange.UpstreamError
	if !errors.As(err, &up) || up.Status != 0 || !strings.Contains(up.Message, "certificate") {
		t.Errorf("error %v, want the login refused for the server's untrusted certificate", err)
	}
}

// TestCallersClientUntouched: New works on a copy of the caller's client (broker shares
// one client between providers): the caller's client keeps its own redirect policy and
// transport.
// Guards against: New setting CheckRedirect and Transport on the caller's client itself
func TestCallersClientUntouched(t *testing.T) {
	caller := &http.Client{}
	fake := newFakeVault(t, loginOK)
	_, err := New(Options{HTTPClient: caller}).Exchange(context.Background(),
		exchange.Request{Integration: vaultIntegration(fake.URL, nil),
			Tokens: &tokens{token: testJWT}})
	if err != nil {
		t.Fatal(err)
	}
	if caller.CheckRedirect != nil || caller.Transport != nil {
		t.Errorf("the caller's client was changed: CheckRedirect set %v, Transport %v",
			caller.CheckRedirect != nil, caller.Transport)
	}
}

// TestMinValidityCountedFromNow: a token must still have exchange.MinValidity left when
// its answer is checked, not when the login was sent: a login that took long enough for its
// token to have less than that left is refused.
// Guards against: Usable's Now taken as the moment the login was sent
func TestMinValidityCountedFromNow(t *testing.T) {
	start := time.Now().Add(-20 * time.Second) // Vault took 20s to answer
	secret := &vaultapi.Secret{Auth: &vaultapi.SecretAuth{ClientToken: clientToken,
		Accessor: "a", LeaseDuration: 40}}
	creds, err := credentials(&config.Vault{Address: "http://vault.example"}, 0, secret, start)
	if err == nil || !strings.Contains(err.Error(), "less than 30s from now") {
		t.Errorf("credentials until %s, error %v; want the token refused as about to expire",
			creds.ExpiresAt, err)
	}
}

// TestDetailCopiesTheLogin: the detail reports what Vault said of the token: not
// renewable when Vault says so, with its accessor and policies.
// Guards against: Renewable not taken from the login answer
func TestDetailCopiesTheLogin(t *testing.T) {
	secret := &vaultapi.Secret{Auth: &vaultapi.SecretAuth{ClientToken: clientToken,
		Accessor: "acc-9", Policies: []string{"ci"}, LeaseDuration: 600, Renewable: false}}
	creds, err := credentials(&config.Vault{Address: "http://vault.example"}, 0, secret,
		time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d, ok := creds.Detail.(Detail)
	if !ok || d.Renewable || d.Accessor != "acc-9" || len(d.Policies) != 1 ||
		d.LeaseDuration != 600 || d.ClientToken != clientToken {
		t.Errorf("detail %+v", creds.Detail)
	}
}
