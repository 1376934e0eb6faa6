package gcp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/provider"
)

// hangingTokens is a token source that never answers until its context ends, as a
// signer that hangs would.
type hangingTokens struct{}

// Token waits for ctx to end and returns its error.
func (hangingTokens) Token(ctx context.Context, _ exchange.TokenRequest) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

// TestHangingTokenSourceIsBounded pins that a whole exchange is bounded by twice the
// integration's timeout even when minting the subject token hangs: the exchange ends with a
// token-source error, not an upstream one, soon after twice the timeout, and never waits for the
// caller to give up.
// Guards against: overall 2*timeout bound dropped (context.WithCancel) in gcp.go:Exchange
// Guards against: overall bound widened (20*timeout) in gcp.go:Exchange
func TestHangingTokenSourceIsBounded(t *testing.T) {
	f := newFixture(t)
	in := f.integration(readerSA)
	in.Timeout = 100 * time.Millisecond
	req, _ := f.request(t, "read", in)
	req.Tokens = hangingTokens{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	started := time.Now()
	_, err := f.x.Exchange(ctx, req)
	took := time.Since(started)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("error %v after %s: the exchange waited for the caller", err, took)
	}
	if took > 10*in.Timeout {
		t.Errorf("the exchange ended after %s, want soon after twice the timeout of %s", took, in.Timeout)
	}
	var up *exchange.UpstreamError
	if errors.As(err, &up) {
		t.Errorf("error %v is an upstream error; minting the token failed", err)
	}
	if n := len(f.emu.Calls()); n != 0 {
		t.Errorf("%d upstream calls without a subject token", n)
	}
}

// TestIssuerUnreachableIsNotDenied pins that Google STS's invalid_grant saying it could
// not reach the token's issuer (broker's own discovery document or JWKS) is a passing failure
// (Throttled, not Denied), while any other invalid_grant is a refusal of the caller.
// Guards against: Throttled never set for provider.GCPIssuerUnreachable in upstream.go:explain
func TestIssuerUnreachableIsNotDenied(t *testing.T) {
	for _, tt := range []struct {
		name, description string
		denied            bool
	}{
		{"issuer unreachable", provider.GCPIssuerUnreachable + ": https://broker.example/.well-known/openid-configuration", false},
		{"other invalid_grant", "The audience in ID Token [x] does not match the expected audience.", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"` + tt.description + `"}`))
			}))
			t.Cleanup(sts.Close)
			in := f.integration(readerSA)
			in.GCP.STSEndpoint = sts.URL
			req, _ := f.request(t, "read", in)
			_, err := f.x.Exchange(context.Background(), req)
			var up *exchange.UpstreamError
			if !errors.As(err, &up) || up.Status != http.StatusBadRequest || up.Code != "invalid_grant" {
				t.Fatalf("error %v, want a 400 invalid_grant upstream error", err)
			}
			if up.Denied() != tt.denied || up.Throttled == tt.denied {
				t.Errorf("Denied() = %v, Throttled = %v; want denied %v", up.Denied(), up.Throttled, tt.denied)
			}
			if !strings.Contains(up.Message, "STS token exchange") {
				t.Errorf("message %q does not name the step", up.Message)
			}
		})
	}
}
