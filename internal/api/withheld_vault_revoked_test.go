package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/vault"
	"github.com/brokerhq/broker/internal/runs"
)

// withheldVaultToken is the Vault token the fake Vault makes at login.
const withheldVaultToken = "hvs.probe-withheld-write-token"

// revokingVault is a Vault that calls during as it answers a login (a change put in force while
// Vault answers) and keeps the token of every revoke-self it receives.
type revokingVault struct {
	*httptest.Server
	during func()

	mu      sync.Mutex
	revoked []string
}

func newRevokingVault(t *testing.T) *revokingVault {
	v := &revokingVault{}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/auth/token/revoke-self" {
			v.mu.Lock()
			v.revoked = append(v.revoked, r.Header.Get("X-Vault-Token"))
			v.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		v.during()
		_ = json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{
			"client_token": withheldVaultToken, "accessor": "acc-1",
			"policies": []string{"write"}, "lease_duration": 3600,
		}})
	}))
	t.Cleanup(v.Close)
	return v
}

// vaultAsAWS serves the harness's AWS integrations through a real Vault exchanger logging
// in to v, so that the harness's attachments decide what the run gets; every other method of
// the Vault exchanger is its own.
type vaultAsAWS struct {
	*vault.Exchanger
	addr string
}

func (p vaultAsAWS) Exchange(ctx context.Context, req exchange.Request) (
	exchange.Credentials, error) {
	req.Integration.AWS = nil
	req.Integration.Vault = &config.Vault{Address: p.addr, Mount: "jwt", Role: req.Integration.ID}
	return p.Exchanger.Exchange(ctx, req)
}

// TestWithheldVaultTokenIsRevoked: a Vault token broker obtained for a run but withholds (the write
// attachment was removed while Vault answered, so the run may no longer have it) is revoked, not
// left alive with the write role's policies for its whole TTL: broker holds it and may revoke it
// with itself.
func TestWithheldVaultTokenIsRevoked(t *testing.T) {
	v := newRevokingVault(t)
	aws := vaultAsAWS{Exchanger: vault.New(vault.Options{}), addr: v.URL}
	h := newRunsHarnessWith(t, harnessOptions{checkVersions: true, aws: aws})
	v.during = func() {
		swapCatalog(t, h, func(o *catalog.Objects) {
			o.Attachments = slices.DeleteFunc(o.Attachments, func(a config.Attachment) bool {
				return a.Integration == "aws-write"
			})
		})
	}
	run := h.start(t, runs.Tracked, runs.Applying)
	body := map[string]string{"provider": "aws"}
	code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body})
	if code == http.StatusOK {
		t.Fatal("the credentials were handed out after the write attachment was removed")
	}
	// The refusal is answered before the revocation is sent.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		v.mu.Lock()
		revoked := slices.Contains(v.revoked, withheldVaultToken)
		v.mu.Unlock()
		if revoked {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("answered %d and left the withheld Vault token alive", code)
		}
	}
}
