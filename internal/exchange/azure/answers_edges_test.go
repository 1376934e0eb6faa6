package azure

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
)

// TestEntraErrorDocument: Entra's error document is read as follows: the first of
// error_codes names the code (AADSTS<n>), else the error field; a document with either is
// Entra's; without a description the error field is the message; secrets given are scrubbed
// from the message; a body beyond the 1 MiB cap is not Entra's document; the body stays
// readable for the SDK afterwards.
// Guards against: errors.go:fromResponse reads the body uncapped
// Guards against: errors.go:fromResponse does not put the body back
// Guards against: errors.go:document needs the error field
// Guards against: errors.go:document needs error_codes
// Guards against: errors.go:no fallback to the error field as message
// Guards against: errors.go:secrets not scrubbed from the message
// Guards against: errors.go:last error code used
func TestEntraErrorDocument(t *testing.T) {
	const secret = "not-a-jwt-assertion-value"
	for _, tc := range []struct {
		name, body, code, msg string
	}{
		{"codes only", `{"error_codes":[700016],"error_description":"app not found"}`, "AADSTS700016", "app not found"},
		{"error only", `{"error":"invalid_client","error_description":"bad client"}`, "invalid_client", "bad client"},
		{"no description", `{"error":"invalid_grant","error_codes":[70021]}`, "AADSTS70021", "invalid_grant"},
		{"secret echoed", `{"error":"invalid_grant","error_description":"assertion ` + secret + ` refused"}`, "invalid_grant", "assertion [redacted] refused"},
		{"first code", `{"error":"invalid_grant","error_codes":[70021,50027],"error_description":"x"}`, "AADSTS70021", "x"},
		{"beyond the cap", `{"error":"invalid_grant","error_description":"` + strings.Repeat("a", 1<<20) + `"}`, "", "unexpected answer from Entra ID: Bad Request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: http.StatusBadRequest, Body: io.NopCloser(strings.NewReader(tc.body))}
			up := fromResponse(resp, []string{secret})
			if up.Status != http.StatusBadRequest || up.Code != tc.code || up.Message != tc.msg {
				t.Errorf("fromResponse = status %d code %q message %.80q, want %q %q", up.Status, up.Code, up.Message, tc.code, tc.msg)
			}
			if tc.name == "beyond the cap" {
				return
			}
			if again, _ := io.ReadAll(resp.Body); string(again) != tc.body {
				t.Errorf("body read again = %q, want %q", again, tc.body)
			}
		})
	}
}

// TestFailureReason: an unanswered call's cause is named from the client's error text:
// "tls:" errors as a failed TLS handshake, "no such host" as a host not found, and both
// TenantDiscoveryResponse and ResolveEndpoints as an unusable OpenID configuration.
// Guards against: errors.go:failureReason ignores "tls:"
// Guards against: errors.go:failureReason ignores "no such host"
// Guards against: errors.go:failureReason ignores ResolveEndpoints
// Guards against: errors.go:failureReason ignores TenantDiscoveryResponse
func TestFailureReason(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"remote error: tls: handshake failure", "could not be reached: TLS handshake failed (is its certificate trusted?)"},
		{"dial tcp: lookup login.example: no such host", "could not be reached: host not found"},
		{"ResolveEndpoints(): http call failed", "served an OpenID configuration that could not be used"},
		{"TenantDiscoveryResponse: missing token_endpoint", "served an OpenID configuration that could not be used"},
	} {
		if got := failureReason(tc.in); got != tc.want {
			t.Errorf("failureReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCauseTextScrubsSecrets: the debug log's cause text has the minted assertions removed.
// Guards against: errors.go:causeText ignores the secrets given
func TestCauseTextScrubsSecrets(t *testing.T) {
	const secret = "not-a-jwt-assertion-value"
	if got := causeText(errors.New("posting "+secret+" failed"), []string{secret}); strings.Contains(got, secret) {
		t.Errorf("causeText = %q, holds the assertion", got)
	}
}

// TestAuthorityWithoutHost: an authority_host that has no host is refused.
// Guards against: authority.go:splitAuthority accepts a URL without a host
func TestAuthorityWithoutHost(t *testing.T) {
	if _, _, err := splitAuthority("login.microsoftonline.com", "tenant-1", &sentTo{}); err == nil {
		t.Error("splitAuthority accepted an authority_host without scheme and host")
	}
}

// TestAuthorityPrefixEscapesWithTrailingSlash: a path prefix written with a trailing slash and
// an escape that decoding would change (%2F) reaches the wire as written, once.
// Guards against: authority.go:prefixed does not set RawPath
// Guards against: authority.go:prefix keeps its trailing slash
func TestAuthorityPrefixEscapesWithTrailingSlash(t *testing.T) {
	rec := &sentTo{}
	origin, tr, err := splitAuthority("https://proxy.example/a%2Fb/", "tenant-1", rec)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", origin+"tenant-1/oauth2/v2.0/token", nil)
	if _, err := tr.Do(req); err != nil {
		t.Fatal(err)
	}
	if want := "https://proxy.example/a%2Fb/tenant-1/oauth2/v2.0/token"; rec.url != want {
		t.Errorf("sent to %s, want %s", rec.url, want)
	}
}

// TestOnlyGetOfMetadataAnswered: only a GET of the OpenID configuration is answered by the
// transport; another method on that path goes to the authority.
// Guards against: authority.go:metadata answered whatever the method
func TestOnlyGetOfMetadataAnswered(t *testing.T) {
	rec := &sentTo{}
	origin, tr, err := splitAuthority("https://proxy.example/", "tenant-1", rec)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", origin+"tenant-1/v2.0/.well-known/openid-configuration", nil)
	if _, err := tr.Do(req); err != nil || rec.url == "" {
		t.Errorf("POST of the OpenID configuration: %v, sent to %q; want it sent", err, rec.url)
	}
}

// TestTokenExpiry: only a three-part token with a numeric exp claim has an expiry.
// Guards against: azure.go:tokenExpiry accepts other than three parts
// Guards against: azure.go:tokenExpiry without the exp presence check
func TestTokenExpiry(t *testing.T) {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, tok string
		ok        bool
	}{
		{"three parts", seg(`{}`) + "." + seg(`{"exp":1700000000}`) + ".sig", true},
		{"four parts", seg(`{}`) + "." + seg(`{"exp":1700000000}`) + ".sig.extra", false},
		{"no exp", seg(`{}`) + "." + seg(`{"sub":"x"}`) + ".sig", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tokenExpiry(tc.tok); ok != tc.ok {
				t.Errorf("tokenExpiry ok = %v, want %v", ok, tc.ok)
			}
		})
	}
}

// failsAfterFirst signs the first token through next and fails every later one.
type failsAfterFirst struct {
	next  exchange.TokenSource
	mu    sync.Mutex
	calls int
}

func (s *failsAfterFirst) Token(ctx context.Context, req exchange.TokenRequest) (string, error) {
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.mu.Unlock()
	if n > 1 {
		return "", errors.New("signing service down")
	}
	return s.next.Token(ctx, req)
}

// TestFederatedTokenMintFailure: when the assertion was signed and Entra answered but the
// token handed to the run (ARM_OIDC_TOKEN) cannot be signed, the exchange fails with an error and
// no credentials.
// Guards against: azure.go:second mint failure returns no error
func TestFederatedTokenMintFailure(t *testing.T) {
	f := newFixture(t, nil)
	req, ts := f.request(t, f.integration("az-read", readClient), readSubject)
	req.Tokens = &failsAfterFirst{next: ts}
	creds, err := f.x.Exchange(context.Background(), req)
	if err == nil || creds.Env != nil {
		t.Fatalf("Exchange = %+v, %v; want an error and no credentials", creds, err)
	}
}
