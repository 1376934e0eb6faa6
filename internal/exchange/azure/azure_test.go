package azure

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/emulator/oidctrust"
	"github.com/brokerhq/broker/internal/exchange"
)

func TestExchangeReadAndWrite(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name, integration, client, subject string
	}{
		{"read", "az-read", readClient, readSubject},
		{"write", "az-write", writeClient, writeSubject},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, ts := f.request(t, f.integration(tc.integration, tc.client), tc.subject)
			creds, err := f.x.Exchange(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			calls := f.tokenCalls()
			last := calls[len(calls)-1]
			if last.ClientID != tc.client || last.Subject != tc.subject || last.Outcome != "ok" ||
				last.Scope != DefaultScope || last.Audience != exchange.AzureAudience {
				t.Fatalf("token call %+v", last)
			}

			wantEnv := []string{EnvClientID, EnvOIDCToken, EnvSubscriptionID, EnvTenantID, EnvUseOIDC}
			if got := slices.Sorted(maps.Keys(creds.Env)); !slices.Equal(got, wantEnv) {
				t.Fatalf("env names %v, want %v", got, wantEnv)
			}
			if creds.Env["ARM_TENANT_ID"] != tenantID || creds.Env["ARM_CLIENT_ID"] != tc.client ||
				creds.Env["ARM_USE_OIDC"] != "true" || creds.Env["ARM_SUBSCRIPTION_ID"] != subscriptionID {
				t.Fatalf("env %v", creds.Env)
			}

			minted, audiences := ts.all()
			if len(minted) != 2 || minted[1] != creds.Env["ARM_OIDC_TOKEN"] || minted[0] == minted[1] {
				t.Fatalf("want the assertion and a separate ARM_OIDC_TOKEN, minted %d tokens", len(minted))
			}
			if !slices.Equal(audiences, []string{exchange.AzureAudience, exchange.AzureAudience}) {
				t.Fatalf("audiences asked %v", audiences)
			}
			v := &oidctrust.Verifier{}
			claims, err := v.Verify(context.Background(), creds.Env["ARM_OIDC_TOKEN"], oidctrust.Policy{
				Issuer: f.iss.URL, Audiences: []string{"api://AzureADTokenExchange"}, Algorithms: []string{"RS256"},
			})
			if err != nil || claims.String("sub") != tc.subject {
				t.Fatalf("ARM_OIDC_TOKEN: %v, claims %v", err, claims)
			}

			d, ok := creds.Detail.(Detail)
			if !ok || d.AccessToken == "" || !strings.HasPrefix(d.AccessToken, "eyJ") || d.TenantID != tenantID ||
				d.ClientID != tc.client || d.SubscriptionID != subscriptionID {
				t.Fatalf("detail %+v", creds.Detail)
			}
			if until := time.Until(d.ExpiresAt); until < 50*time.Minute || until > time.Hour {
				t.Fatalf("access token expires in %s", until)
			}
			// The broker token (10 minutes in the test issuer) outlives nothing here: the
			// credentials expire with it.
			if until := time.Until(creds.ExpiresAt); until < 8*time.Minute || until > 11*time.Minute {
				t.Fatalf("credentials expire in %s", until)
			}
		})
	}
}

func TestExchangeWithoutSubscriptionAndCustomAudience(t *testing.T) {
	f := newFixture(t, nil)
	in := f.integration("az-read", readClient)
	in.Azure.SubscriptionID = ""
	in.Audience = "api://broker-custom"
	// The emulator's apps accept only the default audience: expect AADSTS700212.
	req, ts := f.request(t, in, readSubject)
	_, err := f.x.Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Code != "AADSTS700212" || ue.Status != http.StatusUnauthorized {
		t.Fatalf("err %v", err)
	}
	if _, audiences := ts.all(); !slices.Equal(audiences, []string{"api://broker-custom"}) {
		t.Fatalf("audiences %v", audiences)
	}
	// Entra accepts RS256 assertions only, whatever their audience.
	if algs := ts.asked(); !slices.Equal(algs, []string{exchange.AzureAlgorithm}) {
		t.Fatalf("assertions asked with algorithms %v, want RS256", algs)
	}

	in.Audience = ""
	req, _ = f.request(t, in, readSubject)
	creds, err := f.x.Exchange(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := creds.Env[EnvSubscriptionID]; ok || len(creds.Env) != 4 {
		t.Fatalf("env %v", slices.Sorted(maps.Keys(creds.Env)))
	}
}

// TestExchangeCallsOnlyTheTokenEndpoint: an exchange sends one request, the token request at
// <authority_host>/<tenant>/oauth2/v2.0/token, with a private authority and with the default
// one (a transport sends login.microsoftonline.com to the emulator and refuses any other host):
// no instance discovery, and the tenant's OpenID configuration is not fetched, so that nothing
// served at the authority can point the assertion elsewhere.
func TestExchangeCallsOnlyTheTokenEndpoint(t *testing.T) {
	want := []string{"/" + tenantID + "/oauth2/v2.0/token"}
	check := func(t *testing.T, f *fixture, x *Exchanger, authority string) {
		t.Helper()
		in := f.integration("az-read", readClient)
		in.Azure.AuthorityHost = authority
		req, _ := f.request(t, in, readSubject)
		if _, err := x.Exchange(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, c := range f.emu.Calls() {
			paths = append(paths, c.Path)
			if c.Outcome != "ok" {
				t.Errorf("call %+v", c)
			}
		}
		if !slices.Equal(paths, want) {
			t.Fatalf("calls %v, want %v", paths, want)
		}
	}
	t.Run("private authority", func(t *testing.T) {
		f := newFixture(t, nil)
		check(t, f, f.x, f.srv.URL+"/")
	})
	t.Run("default authority", func(t *testing.T) {
		f := newFixture(t, nil)
		f.emu.SetHost("https://login.microsoftonline.com")
		base := redirect{from: "login.microsoftonline.com", to: f.srv.Listener.Addr().String(), base: f.srv.Client().Transport}
		check(t, f, New(Options{HTTPClient: f.httpClient(base)}), "")
	})
}

func TestExchangeRefusal(t *testing.T) {
	f := newFixture(t, nil)
	req, ts := f.request(t, f.integration("az-write", writeClient), readSubject) // a read run at the write app
	_, err := f.x.Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) {
		t.Fatalf("err %T %v, want *exchange.UpstreamError", err, err)
	}
	if ue.Provider != "azure" || ue.Status != http.StatusBadRequest || ue.Code != "AADSTS70021" {
		t.Fatalf("upstream error %+v", ue)
	}
	wantMsg := "No matching federated identity record found for presented assertion. Assertion Issuer: '" + f.iss.URL +
		"'. Assertion Subject: '" + readSubject + "'. Assertion Audience: 'api://AzureADTokenExchange'."
	if !strings.HasPrefix(ue.Message, wantMsg) || !strings.Contains(ue.Message, "Trace ID: ") {
		t.Fatalf("message %q", ue.Message)
	}
	minted, _ := ts.all()
	if len(minted) != 1 {
		t.Fatalf("minted %d tokens, want only the assertion", len(minted))
	}
	for _, tok := range minted {
		if strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), tok[:40]) {
			t.Fatal("a token leaked into the error")
		}
	}
	if calls := f.tokenCalls(); len(calls) != 1 {
		t.Fatalf("a 400 refusal was retried: %+v", calls)
	}
}

func TestExchangeRetriesTransientFailures(t *testing.T) {
	f := newFixture(t, nil)
	f.emu.FailNext(2, http.StatusServiceUnavailable)
	req, _ := f.request(t, f.integration("az-read", readClient), readSubject)
	if _, err := f.x.Exchange(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, c := range f.tokenCalls() {
		outcomes = append(outcomes, c.Outcome)
	}
	if want := []string{"AADSTS50033", "AADSTS50033", "ok"}; !slices.Equal(outcomes, want) {
		t.Fatalf("token calls %v, want %v", outcomes, want)
	}
}

func TestExchangeGivesUpOnPersistentFailure(t *testing.T) {
	f := newFixture(t, nil)
	f.emu.FailNext(10, http.StatusServiceUnavailable)
	req, _ := f.request(t, f.integration("az-read", readClient), readSubject)
	_, err := f.x.Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Status != http.StatusServiceUnavailable || ue.Code != "AADSTS50033" {
		t.Fatalf("err %v", err)
	}
	if n := len(f.tokenCalls()); n != 3 {
		t.Fatalf("%d token calls, want 3 (the shared client's attempts; azcore's retries are off)", n)
	}
}

func TestExchangeUnknownTenant(t *testing.T) {
	f := newFixture(t, nil)
	in := f.integration("az-read", readClient)
	in.Azure.TenantID = "00000000-0000-0000-0000-000000000000"
	req, _ := f.request(t, in, readSubject)
	_, err := f.x.Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Status != http.StatusBadRequest || ue.Code != "AADSTS90002" ||
		!strings.Contains(ue.Message, "Tenant '00000000-0000-0000-0000-000000000000' not found.") {
		t.Fatalf("err %v", err)
	}
}

func TestExchangeHangingTokenEndpointTimesOut(t *testing.T) {
	release := make(chan struct{})
	f := newFixture(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	in := f.integration("az-read", readClient)
	in.Timeout = 300 * time.Millisecond
	req, ts := f.request(t, in, readSubject)
	start := time.Now()
	_, err := f.x.Exchange(context.Background(), req)
	elapsed := time.Since(start)
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || !strings.Contains(ue.Message, "did not answer within 300ms") {
		t.Fatalf("err %v", err)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("took %s with a 300ms timeout", elapsed)
	}
	minted, _ := ts.all()
	for _, tok := range minted {
		if strings.Contains(err.Error(), tok) {
			t.Fatal("a token leaked into the error")
		}
	}
}

func TestExchangeUnreachableAuthority(t *testing.T) {
	f := newFixture(t, nil)
	in := f.integration("az-read", readClient)
	in.Azure.AuthorityHost = "https://127.0.0.1:1/"
	req, _ := f.request(t, in, readSubject)
	_, err := f.x.Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || ue.Error() != "azure: Entra ID at https://127.0.0.1:1/ could not be reached: connection refused" {
		t.Fatalf("err %v", err)
	}
}

func TestExchangeRefusesHTTPAuthority(t *testing.T) {
	f := newFixture(t, nil)
	in := f.integration("az-read", readClient)
	in.Azure.AuthorityHost = "http://" + f.srv.Listener.Addr().String()
	req, _ := f.request(t, in, readSubject)
	_, err := f.x.Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "https") {
		t.Fatalf("err %v, want a configuration error about https", err)
	}
	if calls := f.emu.Calls(); len(calls) != 0 {
		t.Fatalf("calls %+v", calls)
	}
}

func TestExchangeTokenSourceFailure(t *testing.T) {
	f := newFixture(t, nil)
	req, ts := f.request(t, f.integration("az-read", readClient), readSubject)
	sentinel := errors.New("run is finished")
	ts.err = sentinel
	_, err := f.x.Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if !errors.Is(err, sentinel) || errors.As(err, &ue) {
		t.Fatalf("err %v, want the token source's error", err)
	}
	if n := len(f.tokenCalls()); n != 0 {
		t.Fatalf("%d token calls without an assertion", n)
	}
}

func TestExchangeMisconfigured(t *testing.T) {
	f := newFixture(t, nil)
	cases := map[string]func(*exchange.Request){
		"no azure block": func(r *exchange.Request) { r.Integration.Azure = nil },
		"no tenant":      func(r *exchange.Request) { r.Integration.Azure.TenantID = "" },
		"no client":      func(r *exchange.Request) { r.Integration.Azure.ClientID = "" },
		"no tokens":      func(r *exchange.Request) { r.Tokens = nil },
		"bad tenant":     func(r *exchange.Request) { r.Integration.Azure.TenantID = "../evil" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := f.request(t, f.integration("az-read", readClient), readSubject)
			mutate(&req)
			var ue *exchange.UpstreamError
			if _, err := f.x.Exchange(context.Background(), req); err == nil || errors.As(err, &ue) {
				t.Fatalf("err %v", err)
			}
		})
	}
}

// Every exchange does its own token request, even for the same integration: no access token
// obtained for one run is ever served from a cache to another.
func TestExchangeNeverSharesTokensAcrossRuns(t *testing.T) {
	f := newFixture(t, nil)
	in := f.integration("az-read", readClient)
	seen := map[string]bool{}
	for range 3 {
		req, _ := f.request(t, in, readSubject)
		creds, err := f.x.Exchange(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		tok := creds.Detail.(Detail).AccessToken
		if seen[tok] {
			t.Fatal("an access token was served twice")
		}
		seen[tok] = true
	}
	if n := len(f.tokenCalls()); n != 3 {
		t.Fatalf("%d token calls for 3 exchanges", n)
	}
}

func TestExchangeConcurrent(t *testing.T) {
	f := newFixture(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			in, sub := f.integration("az-read", readClient), readSubject
			if i%2 == 1 {
				in, sub = f.integration("az-write", writeClient), writeSubject
			}
			req, _ := f.request(t, in, sub)
			creds, err := f.x.Exchange(context.Background(), req)
			if err == nil && creds.Env[EnvClientID] != in.Azure.ClientID {
				err = errors.New("wrong client id in env")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, c := range f.tokenCalls() {
		if c.Outcome != "ok" || (c.ClientID == readClient) != (c.Subject == readSubject) {
			t.Errorf("call %+v", c)
		}
	}
}

// The default client trusts the system pool only, so the emulator's test certificate fails.
func TestExchangeUntrustedCertificate(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := f.request(t, f.integration("az-read", readClient), readSubject)
	_, err := New(Options{}).Exchange(context.Background(), req)
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || !strings.Contains(ue.Message, "TLS handshake failed") {
		t.Fatalf("err %v", err)
	}
}
