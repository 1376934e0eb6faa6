package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// slowRevokeSelf is a Vault whose logins wait for go, then make a token living far longer
// than any integration's duration (which broker refuses), and whose revoke-self takes 200ms
// and then counts the token as revoked.
type slowRevokeSelf struct {
	proceed chan struct{}
	entered chan struct{}
	revoked atomic.Bool
}

func (v *slowRevokeSelf) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/auth/token/revoke-self" {
		time.Sleep(200 * time.Millisecond)
		v.revoked.Store(true)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	close(v.entered)
	<-v.proceed
	_ = json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{
		"client_token": "hvs.refused-at-stop", "accessor": "acc-1",
		"policies": []string{"read"}, "lease_duration": 2764800,
	}})
}

// TestStopWaitsForRevocations: a Vault token broker obtained but refused (it would outlive
// the integration's duration) is revoked, so that no token nobody holds stays alive. When
// that refusal is a request the graceful stop waits for, Serve must not return (and the process
// exit) before the revocation is done: otherwise the token lives its whole TTL.
func TestStopWaitsForRevocations(t *testing.T) {
	v := &slowRevokeSelf{proceed: make(chan struct{}), entered: make(chan struct{})}
	emu, late := startEmulator(t)
	late.set(v)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
http: {shutdown_timeout: 5s}
integrations:
  - {id: vault-read, space: prod, vault: {address: %q, role: r}, duration: 60s}
attachments:
  - {stack: vpc-prod, integration: vault-read, read: true}
`, emu.URL)})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	go stopAskCredentials(ts.URL, run.RunToken)
	<-v.entered
	stopped := make(chan struct{})
	go func() { ts.stop(); close(stopped) }()
	time.Sleep(100 * time.Millisecond) // the drain began, waiting for the request
	close(v.proceed)
	<-stopped
	if !v.revoked.Load() {
		t.Error("Serve returned before the refused Vault token was revoked: the process exits " +
			"and the token stays alive")
	}
}
