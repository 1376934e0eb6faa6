package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange/vault"
	"github.com/brokerhq/broker/internal/runs"
)

// slowRevokeVault answers a login with a write token, calling during as it answers (a
// change put in force meanwhile), and holds every revoke-self until release is called: a Vault
// slow to revoke.
func slowRevokeVault(t *testing.T, during func()) (srv *httptest.Server, release func()) {
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/auth/token/revoke-self" {
			select {
			case <-held:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		during()
		_ = json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{
			"client_token": "hvs.slow-revoke", "accessor": "acc-1",
			"policies": []string{"write"}, "lease_duration": 3600,
		}})
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(release) // before Close, which waits for the held handler
	return srv, release
}

// TestWithheldAnswerNotHeldByRevoke: credentials withheld after the exchange are answered
// (409) before the server's write timeout, whatever the revocation of the withheld Vault token
// costs. The answer is buffered until the handler returns, so a revoke-self run before that holds
// it for up to 10s (DefaultIntegrationTimeout, not the integration's timeout nor the write
// timeout); past http.write_timeout the run gets a closed connection instead of its answer.
func TestWithheldAnswerNotHeldByRevoke(t *testing.T) {
	var h *runsHarness
	dropWrite := func() {
		swapCatalog(t, h, func(o *catalog.Objects) {
			o.Attachments = slices.DeleteFunc(o.Attachments, func(a config.Attachment) bool {
				return a.Integration == "aws-write"
			})
		})
	}
	v, release := slowRevokeVault(t, dropWrite)
	defer release() // before the server's Close, which waits for the handler revoking
	aws := vaultAsAWS{Exchanger: vault.New(vault.Options{}), addr: v.URL}
	h = newRunsHarnessWith(t, harnessOptions{checkVersions: true, aws: aws})
	// Served as the server serves it: through api.Instrument.
	srv := httptest.NewUnstartedServer(api.Instrument(h.handler, slog.New(slog.DiscardHandler), nil))
	srv.Config.WriteTimeout = 2 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	run := h.start(t, runs.Tracked, runs.Applying)
	req, err := http.NewRequest("POST", srv.URL+"/v1/credentials",
		bytes.NewReader([]byte(`{"provider":"aws"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+run.RunToken)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer after %v (write timeout 2s): %v", time.Since(start), err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("answered %d %s, want 409", resp.StatusCode, raw)
	}
}
