package gcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestFederatedTokenScrubbedFromCode: an IAM Credentials answer that echoes the federated access
// token (opaque, not shaped like a JWT) in its status field never passes it to the caller.
func TestFederatedTokenScrubbedFromCode(t *testing.T) {
	iss := oidctest.Start(t)
	const federated = "ya29.federated-opaque-token-0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/token" {
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": federated,
				"issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": 3600})
			return
		}
		bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.WriteHeader(http.StatusForbidden)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": 403, "message": "caller " + bearer + " denied", "status": bearer}})
	}))
	t.Cleanup(srv.Close)
	x := New(Options{HTTPClient: fastRetries()})
	in := config.Integration{ID: "gcp-read", GCP: &config.GCP{
		WorkloadIdentityProvider: testProvider, ServiceAccount: readerSA, STSEndpoint: srv.URL, IAMCredentialsEndpoint: srv.URL}}
	_, err := x.Exchange(context.Background(), exchange.Request{Run: runs.Run{ID: "01JRUN", Space: "root", Stack: "vpc", Scope: runs.Read}, Integration: in, Tokens: &fakeTokens{t: t, iss: iss, scope: "read"}})
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), federated) {
		t.Errorf("the federated access token reaches the caller: %v", err)
	}
}
