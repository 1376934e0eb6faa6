package gcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	gcpemu "github.com/brokerhq/broker/internal/emulator/gcp"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

const (
	testPool     = "projects/123456789/locations/global/workloadIdentityPools/broker"
	testProvider = testPool + "/providers/broker-oidc"
	readerSA     = "reader@demo.iam.gserviceaccount.com"
	writerSA     = "writer@demo.iam.gserviceaccount.com"
)

// fakeTokens mints broker-like ID tokens for a run at scope, signed by the test issuer.
type fakeTokens struct {
	t     *testing.T
	iss   *oidctest.Issuer
	scope string
	err   error

	mu        sync.Mutex
	audiences []string
	minted    []string
}

func (f *fakeTokens) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	tok := f.iss.Sign(f.t, oidctest.Token{Claims: map[string]any{
		"sub":      "space:root:stack:vpc:run_type:TRACKED:scope:" + f.scope,
		"aud":      req.Audience,
		"scope":    f.scope,
		"callerId": "vpc",
		"runId":    "01JRUN",
	}})
	f.mu.Lock()
	defer f.mu.Unlock()
	f.audiences = append(f.audiences, req.Audience)
	f.minted = append(f.minted, tok)
	return tok, nil
}

func (f *fakeTokens) snapshot() (audiences, minted []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.audiences...), append([]string(nil), f.minted...)
}

type fixture struct {
	iss *oidctest.Issuer
	emu *gcpemu.Emulator
	srv *httptest.Server
	x   *Exchanger
}

// newFixture runs an issuer and an emulator where readerSA is granted to identities whose
// scope attribute is read and writerSA to those whose scope is write.
func newFixture(t *testing.T, allowedAudiences ...string) *fixture {
	t.Helper()
	iss := oidctest.Start(t)
	emu := gcpemu.New(gcpemu.Config{
		Providers: []gcpemu.Provider{{
			Name: testProvider, Issuer: iss.URL, AllowedAudiences: allowedAudiences,
			AttributeMapping: map[string]string{"google.subject": "assertion.sub", "attribute.scope": "assertion.scope"},
		}},
		ServiceAccounts: []gcpemu.ServiceAccount{
			{Email: readerSA, Members: []string{"principalSet://iam.googleapis.com/" + testPool + "/attribute.scope/read"}},
			{Email: writerSA, Members: []string{"principalSet://iam.googleapis.com/" + testPool + "/attribute.scope/write"}},
		},
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &fixture{iss: iss, emu: emu, srv: srv, x: New(Options{HTTPClient: fastRetries()})}
}

// fastRetries is the production client with a short backoff.
func fastRetries() *http.Client {
	return exchange.NewHTTPClient(exchange.ClientOptions{Backoff: 5 * time.Millisecond})
}

// integration is a GCP integration for sa against the fixture's emulator.
func (f *fixture) integration(sa string) config.Integration {
	return config.Integration{
		ID: "gcp-" + sa[:6],
		GCP: &config.GCP{
			WorkloadIdentityProvider: testProvider, ServiceAccount: sa,
			STSEndpoint: f.srv.URL, IAMCredentialsEndpoint: f.srv.URL,
		},
		Timeout: 5 * time.Second,
	}
}

func (f *fixture) request(t *testing.T, scope string, in config.Integration) (exchange.Request, *fakeTokens) {
	tokens := &fakeTokens{t: t, iss: f.iss, scope: scope}
	return exchange.Request{
		Run:         runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Scope(scope)},
		Integration: in,
		Tokens:      tokens,
	}, tokens
}
