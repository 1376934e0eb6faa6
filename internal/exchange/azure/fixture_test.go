package azure

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	azureemu "github.com/brokerhq/broker/internal/emulator/azure"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

const (
	tenantID       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	readClient     = "aaaaaaaa-0000-0000-0000-000000000001"
	writeClient    = "bbbbbbbb-0000-0000-0000-000000000002"
	subscriptionID = "cccccccc-0000-0000-0000-000000000003"
	readSubject    = "space:root:stack:vpc:run_type:TRACKED:scope:read"
	writeSubject   = "space:root:stack:vpc:run_type:TRACKED:scope:write"
)

// fixture is an external issuer, the Entra emulator behind TLS, and an exchanger whose HTTP
// client trusts the emulator's certificate.
type fixture struct {
	iss *oidctest.Issuer
	emu *azureemu.Emulator
	srv *httptest.Server
	x   *Exchanger
}

func newFixture(t *testing.T, wrap func(http.Handler) http.Handler) *fixture {
	t.Helper()
	iss := oidctest.Start(t)
	emu := azureemu.New(azureemu.Config{Apps: []azureemu.App{
		{TenantID: tenantID, ClientID: readClient, Federated: []azureemu.FederatedCredential{{Issuer: iss.URL, Subject: readSubject}}},
		{TenantID: tenantID, ClientID: writeClient, Federated: []azureemu.FederatedCredential{{Issuer: iss.URL, Subject: writeSubject}}},
	}})
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	emu.SetHost(srv.URL)
	f := &fixture{iss: iss, emu: emu, srv: srv}
	f.x = New(Options{HTTPClient: f.httpClient(srv.Client().Transport), Logger: slog.New(slog.DiscardHandler)})
	return f
}

func (f *fixture) httpClient(base http.RoundTripper) *http.Client {
	return exchange.NewHTTPClient(exchange.ClientOptions{Base: base, Backoff: 5 * time.Millisecond})
}

// integration is an Azure integration pointing at the emulator.
func (f *fixture) integration(id, clientID string) config.Integration {
	return config.Integration{
		ID: id,
		Azure: &config.Azure{
			TenantID:       tenantID,
			ClientID:       clientID,
			SubscriptionID: subscriptionID,
			AuthorityHost:  f.srv.URL,
		},
		Timeout: 5 * time.Second,
	}
}

func (f *fixture) request(t *testing.T, in config.Integration, subject string) (exchange.Request, *tokenSource) {
	t.Helper()
	ts := &tokenSource{t: t, iss: f.iss, subject: subject}
	return exchange.Request{Run: runs.Run{ID: "01JRUN", Stack: "vpc", Scope: runs.Read}, Integration: in, Tokens: ts}, ts
}

// tokenCalls returns the emulator's token-endpoint calls.
func (f *fixture) tokenCalls() []azureemu.Call {
	var out []azureemu.Call
	for _, c := range f.emu.Calls() {
		if c.Path == "/"+tenantID+"/oauth2/v2.0/token" {
			out = append(out, c)
		}
	}
	return out
}

// tokenSource stands in for broker's minting: it signs with the test issuer for a fixed subject.
type tokenSource struct {
	t       testing.TB
	iss     *oidctest.Issuer
	subject string
	err     error

	mu         sync.Mutex
	minted     []string
	audiences  []string
	algorithms []string // the Algorithm of each request
}

func (s *tokenSource) Token(_ context.Context, req exchange.TokenRequest) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	jti := make([]byte, 8)
	_, _ = rand.Read(jti)
	tok := s.iss.Sign(s.t, oidctest.Token{Claims: map[string]any{
		"sub": s.subject, "aud": req.Audience, "jti": hex.EncodeToString(jti),
	}})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.minted = append(s.minted, tok)
	s.audiences = append(s.audiences, req.Audience)
	s.algorithms = append(s.algorithms, req.Algorithm)
	return tok, nil
}

// asked returns the Algorithm of every request so far.
func (s *tokenSource) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.algorithms...)
}

func (s *tokenSource) all() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.minted...), append([]string(nil), s.audiences...)
}

// redirect sends requests for one host to a loopback address instead, keeping the Host
// header, and refuses every other host so a test can never leave the machine.
type redirect struct {
	from, to string
	base     http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != r.from {
		return nil, fmt.Errorf("test transport: refusing to reach %s", req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.URL.Host = r.to
	return r.base.RoundTrip(out)
}
