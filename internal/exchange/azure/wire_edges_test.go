package azure

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestEntraErrorDocumentReadUpToTheCap: an error document far larger than a usual one but
// within exchange.MaxResponseBytes is still read as Entra's: its code and description are
// passed on.
// Guards against: fromResponse reading the body with a cap smaller than exchange.MaxResponseBytes
func TestEntraErrorDocumentReadUpToTheCap(t *testing.T) {
	desc := "AADSTS700016: application not found. " + strings.Repeat("Trace detail. ", 4096)
	body := `{"error":"unauthorized_client","error_codes":[700016],"error_description":"` +
		desc + `"}`
	resp := &http.Response{StatusCode: http.StatusBadRequest,
		Body: io.NopCloser(strings.NewReader(body))}
	up := fromResponse(resp, nil)
	if up.Status != http.StatusBadRequest || up.Code != "AADSTS700016" ||
		!strings.HasPrefix(up.Message, "application not found.") {
		t.Errorf("fromResponse = status %d code %q message %.60q, want 400 AADSTS700016 "+
			"\"application not found. ...\"", up.Status, up.Code, up.Message)
	}
}

// TestFailureReasonNamesBareX509Errors: a certificate error whose text is only the x509
// package's ("x509: certificate signed by unknown authority", without a "tls:" prefix) is named
// a failed TLS handshake.
// Guards against: failureReason matching "tls:" only
func TestFailureReasonNamesBareX509Errors(t *testing.T) {
	const want = "could not be reached: TLS handshake failed (is its certificate trusted?)"
	if got := failureReason("Post: x509: certificate signed by unknown authority"); got != want {
		t.Errorf("failureReason = %q, want %q", got, want)
	}
}

// TestUpstreamErrorScrubsEchoedAssertion: when Entra's refusal quotes an assertion minted
// for the exchange, the error passed on has it redacted, even one that is not JWT-shaped.
// Guards against: upstreamError not handing the minted assertions to fromResponse
func TestUpstreamErrorScrubsEchoedAssertion(t *testing.T) {
	const assertion = "opaque-assertion-0123456789abcdef"
	body := `{"error":"invalid_client","error_codes":[700027],` +
		`"error_description":"AADSTS700027: assertion ` + assertion +
		` failed signature validation"}`
	resp := &http.Response{StatusCode: http.StatusUnauthorized,
		Body: io.NopCloser(strings.NewReader(body))}
	err := &azidentity.AuthenticationFailedError{RawResponse: resp}
	up := upstreamError(context.Background(), err,
		entraCall{authority: "https://login.example/", timeout: time.Second}, []string{assertion})
	if up.Code != "AADSTS700027" || strings.Contains(up.Error(), assertion) {
		t.Errorf("upstreamError = code %q, %q; want AADSTS700027 without the assertion",
			up.Code, up.Error())
	}
}

// recordingEntra records every URL asked of it and answers each with a usable access token.
type recordingEntra struct {
	mu   sync.Mutex
	urls []string
}

func (p *recordingEntra) RoundTrip(req *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.urls = append(p.urls, req.Method+" "+req.URL.String())
	p.mu.Unlock()
	body := `{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,` +
		`"access_token":"test-access-token-0123456789"}`
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(body)),
		Request: req}, nil
}

func (p *recordingEntra) sent() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.urls...)
}

// TestOnlyV2MetadataAnsweredLocally: the transport answers only the tenant's v2.0 OpenID
// configuration itself; a GET of any other .well-known document goes to the authority.
// Guards against: metadata answered for any path ending in /.well-known/openid-configuration
func TestOnlyV2MetadataAnsweredLocally(t *testing.T) {
	rec := &sentTo{}
	origin, tr, err := splitAuthority("https://proxy.example/", "tenant-1", rec)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", origin+"tenant-1/.well-known/openid-configuration", nil)
	if _, err := tr.Do(req); err != nil || rec.url == "" {
		t.Errorf("GET of the v1 OpenID configuration: %v, sent to %q; want it sent", err, rec.url)
	}
}

// TestOIDCTokenHasTheIntegrationsAudience: ARM_OIDC_TOKEN is a second fresh broker token
// with the same audience as the assertion: the integration's audience when it sets one.
// Guards against: ARM_OIDC_TOKEN minted for api://AzureADTokenExchange whatever the
// integration's audience
func TestOIDCTokenHasTheIntegrationsAudience(t *testing.T) {
	rec := &recordingEntra{}
	x := New(Options{HTTPClient: &http.Client{Transport: rec}})
	in := config.Integration{ID: "az", Audience: "api://broker-custom", Azure: &config.Azure{
		TenantID: tenantID, ClientID: readClient, AuthorityHost: "https://proxy.example/"}}
	ts := &tokenSource{t: t, iss: oidctest.Start(t), subject: readSubject}
	creds, err := x.Exchange(context.Background(), exchange.Request{
		Run: runs.Run{ID: "01JRUN", Stack: "vpc", Scope: runs.Read}, Integration: in, Tokens: ts})
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	minted, audiences := ts.all()
	want := []string{"api://broker-custom", "api://broker-custom"}
	if !slices.Equal(audiences, want) || len(minted) != 2 || creds.Env[EnvOIDCToken] != minted[1] {
		t.Errorf("tokens minted for audiences %v, want %v with the second as %s",
			audiences, want, EnvOIDCToken)
	}
}

// opaqueSecond mints the assertion with the fixture's source and an opaque (not a JWT)
// second token, as ARM_OIDC_TOKEN.
type opaqueSecond struct {
	inner *tokenSource
	mu    sync.Mutex
	n     int
}

func (p *opaqueSecond) Token(ctx context.Context, req exchange.TokenRequest) (string, error) {
	p.mu.Lock()
	p.n++
	n := p.n
	p.mu.Unlock()
	if n > 1 {
		return "opaque-oidc-token-without-claims", nil
	}
	return p.inner.Token(ctx, req)
}

// TestUnreadableOIDCTokenExpiryKeepsAccessTokenExpiry: when ARM_OIDC_TOKEN's expiry cannot
// be read, the credentials expire with the access token: the exchange succeeds and ExpiresAt is
// the access token's.
// Guards against: an unreadable ARM_OIDC_TOKEN expiry taken as the zero time (ok test inverted)
func TestUnreadableOIDCTokenExpiryKeepsAccessTokenExpiry(t *testing.T) {
	f := newFixture(t, nil)
	req, ts := f.request(t, f.integration("az-read", readClient), readSubject)
	req.Tokens = &opaqueSecond{inner: ts}
	creds, err := f.x.Exchange(context.Background(), req)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	d, _ := creds.Detail.(Detail)
	if !creds.ExpiresAt.Equal(d.ExpiresAt) || d.ExpiresAt.IsZero() {
		t.Errorf("ExpiresAt %s, want the access token's %s", creds.ExpiresAt, d.ExpiresAt)
	}
}
