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
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// fakeGoogle answers STS with a good federated token and generateAccessToken with iam.
func fakeGoogle(t *testing.T, iam map[string]any) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/token" {
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "federated-token-0123456789",
				"issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})
			return
		}
		if strings.HasSuffix(r.URL.Path, ":generateAccessToken") {
			_ = json.NewEncoder(w).Encode(iam)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A generateAccessToken answer without an access token, or expired, fails the exchange.
func TestRefusesUnusableIAMAnswer(t *testing.T) {
	iss := oidctest.Start(t)
	cases := []struct {
		name string
		iam  map[string]any
	}{
		{"expireTime in the past", map[string]any{"accessToken": "ya29.good-looking-token", "expireTime": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}},
		{"empty accessToken", map[string]any{"accessToken": "", "expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := fakeGoogle(t, tc.iam)
			x := New(Options{HTTPClient: fastRetries()})
			in := config.Integration{ID: "gcp-read", Timeout: 5 * time.Second, GCP: &config.GCP{
				WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA, STSEndpoint: base, IAMCredentialsEndpoint: base}}
			creds, err := x.Exchange(context.Background(), exchange.Request{
				Run:         runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read},
				Integration: in, Tokens: &fakeTokens{t: t, iss: iss, scope: "read"}})
			if err == nil {
				t.Fatalf("exchange accepted an IAM answer with %s: expiresAt=%s token=%q",
					tc.name, creds.ExpiresAt.Format(time.RFC3339), creds.Env[EnvAccessToken])
			}
			var ue *exchange.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 200 {
				t.Errorf("error %v, want an upstream error with status 200", err)
			}
			if strings.Contains(err.Error(), "ya29.good-looking-token") {
				t.Errorf("error %q holds the secret", err)
			}
		})
	}
}
