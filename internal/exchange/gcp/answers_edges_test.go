package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// uncappedCall is one exchange of exchangeWithin: the endpoint of both STS and IAM
// Credentials, the tokens (the test issuer's when nil) and the integration's timeout.
type uncappedCall struct {
	endpoint string
	tokens   exchange.TokenSource
	timeout  time.Duration
}

// roomyTimeout is the integration timeout of a test that does not wait for it: room for a
// megabyte's answer under -race on a loaded machine.
const roomyTimeout = 10 * time.Second

// exchangeUncapped runs one exchange for a read run against endpoint (both STS and IAM
// Credentials) on a client whose transport neither retries nor caps, with the given tokens
// (the test issuer's when nil) and a timeout no answer of these tests comes near.
func exchangeUncapped(t *testing.T, endpoint string, tokens exchange.TokenSource) error {
	t.Helper()
	return exchangeWithin(t, uncappedCall{endpoint: endpoint, tokens: tokens, timeout: roomyTimeout})
}

// exchangeWithin is exchangeUncapped with the call's own timeout.
func exchangeWithin(t *testing.T, c uncappedCall) error {
	t.Helper()
	srvClient := &http.Client{Transport: http.DefaultTransport}
	tokens := c.tokens
	if tokens == nil {
		tokens = &fakeTokens{t: t, iss: oidctest.Start(t), scope: "read"}
	}
	in := config.Integration{ID: "gcp-read", Timeout: c.timeout, GCP: &config.GCP{
		WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA, STSEndpoint: c.endpoint,
		IAMCredentialsEndpoint: c.endpoint}}
	_, err := New(Options{HTTPClient: srvClient}).Exchange(context.Background(), exchange.Request{
		Run: runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read}, Integration: in, Tokens: tokens})
	return err
}

// upstreamOf asserts err is an *exchange.UpstreamError.
func upstreamOf(t *testing.T, err error) *exchange.UpstreamError {
	t.Helper()
	var up *exchange.UpstreamError
	if !errors.As(err, &up) {
		t.Fatalf("error %v (%T), want *exchange.UpstreamError", err, err)
	}
	return up
}

// TestAnswerBodyNotReadInTime pins that an answer whose body does not arrive within the
// integration's timeout fails with the answer's status and a message naming the step and the
// timeout the body was not read within.
// Guards against: upstream.go:"answer not read within" rewrite dropped
// Guards against: upstream.go:status dropped from the answer recorded when its body could not be
// read
// Guards against: upstream.go:status dropped from the error of an answer that could not be read
func TestAnswerBodyNotReadInTime(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"access_token": "`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	up := upstreamOf(t, exchangeWithin(t, uncappedCall{endpoint: srv.URL, timeout: 300 * time.Millisecond}))
	if up.Status != http.StatusOK || up.Message != "STS token exchange: answer not read within 300ms" {
		t.Errorf("error %+v", up)
	}
}

// TestBodyAtTheCapIsRead pins that an answer body of exactly exchange.MaxResponseBytes is
// read and its message passed on, not refused as too large.
// Guards against: upstream.go:"len(body) > MaxResponseBytes" -> ">="
func TestBodyAtTheCapIsRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(strings.Repeat("x", exchange.MaxResponseBytes)))
	}))
	t.Cleanup(srv.Close)
	up := upstreamOf(t, exchangeUncapped(t, srv.URL, nil))
	if up.Status != http.StatusBadRequest || strings.Contains(up.Message, exchange.ErrResponseTooLarge.Error()) ||
		!strings.HasPrefix(up.Message, "STS token exchange: xxxx") {
		t.Errorf("error %.200v", up)
	}
}

// TestUnusableIAMAnswerKeepsStatus pins that a 2xx generateAccessToken answer the client
// cannot use (no expireTime) fails as an upstream error with that status, saying the answer was
// unusable.
// Guards against: upstream.go:status dropped from the "unusable answer" error
func TestUnusableIAMAnswerKeepsStatus(t *testing.T) {
	base := fakeGoogle(t, map[string]any{"accessToken": "ya29.good-looking-token"})
	up := upstreamOf(t, exchangeUncapped(t, base, nil))
	if up.Status != http.StatusOK || !strings.HasPrefix(up.Message, "generateAccessToken for "+readerSA+": unusable answer: ") ||
		strings.Contains(up.Message, "ya29.good-looking-token") {
		t.Errorf("error %+v", up)
	}
}

// TestNothingSentUpstreamIsUpstreamError pins that an exchange failing before any upstream
// call (an endpoint no request can be made to) is still an upstream error with no status.
// Guards against: upstream.go:raw client error returned when nothing went upstream
func TestNothingSentUpstreamIsUpstreamError(t *testing.T) {
	up := upstreamOf(t, exchangeUncapped(t, "http://%zz", nil))
	if up.Status != 0 || up.Message == "" {
		t.Errorf("error %+v", up)
	}
}

// opaqueTokens hands out one fixed subject token that is not shaped like a JWT.
type opaqueTokens struct{ token string }

func (p opaqueTokens) Token(context.Context, exchange.TokenRequest) (string, error) {
	return p.token, nil
}

// TestEchoedSubjectTokenScrubbed pins that the broker token sent to Google STS never
// reaches the caller even when STS echoes it and it is not shaped like a JWT.
// Guards against: gcp.go:subject token not recorded as a secret
func TestEchoedSubjectTokenScrubbed(t *testing.T) {
	const token = "opaque-subject-token-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": "subject token " + r.PostForm.Get("subject_token") + " is invalid"})
	}))
	t.Cleanup(srv.Close)
	err := exchangeUncapped(t, srv.URL, opaqueTokens{token})
	up := upstreamOf(t, err)
	if up.Code != "invalid_grant" || strings.Contains(err.Error(), token) || !strings.Contains(up.Message, "[redacted]") {
		t.Errorf("error %v, want the refusal with the token redacted", err)
	}
}

// TestOnlyInvalidGrantIssuerUnreachableIsPassing pins that only an invalid_grant whose
// description begins by saying Google could not reach the token's issuer is a passing failure;
// the same words under another code, or later in the description, are a refusal.
// Guards against: upstream.go:code check dropped from Throttled
// Guards against: upstream.go:HasPrefix -> Contains for provider.GCPIssuerUnreachable
func TestOnlyInvalidGrantIssuerUnreachableIsPassing(t *testing.T) {
	for _, tt := range []struct {
		name, code, description string
		denied                  bool
	}{
		{"invalid_grant, issuer unreachable", "invalid_grant", provider.GCPIssuerUnreachable + ": https://broker.example", false},
		{"another code", "invalid_request", provider.GCPIssuerUnreachable + ": https://broker.example", true},
		{"words not at the start", "invalid_grant", "Token rejected. " + provider.GCPIssuerUnreachable, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": tt.code, "error_description": tt.description})
			}))
			t.Cleanup(srv.Close)
			up := upstreamOf(t, exchangeUncapped(t, srv.URL, nil))
			if up.Status != http.StatusBadRequest || up.Code != tt.code || up.Denied() != tt.denied {
				t.Errorf("error %+v, Denied() %v, want %v", up, up.Denied(), tt.denied)
			}
		})
	}
}

// TestGoogleErrorWithoutErrorField pins that a JSON body without an "error" member is
// passed on as text, not replaced by the status text.
// Guards against: upstream.go:"len(e.Error) > 0" dropped
func TestGoogleErrorWithoutErrorField(t *testing.T) {
	const body = `{"message":"quota project not set"}`
	if code, message := googleError(http.StatusForbidden, []byte(body)); code != "" || message != body {
		t.Errorf("googleError = %q, %q", code, message)
	}
}
