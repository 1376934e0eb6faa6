package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// hungRevokeVault is a Vault whose logins make a token living far longer than any
// integration's duration (which broker refuses, then revokes) and whose revoke-self never
// answers until the test ends; entered is closed when the revocation arrives.
type hungRevokeVault struct {
	entered chan struct{}
	release chan struct{}
}

func (v *hungRevokeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/auth/token/revoke-self" {
		close(v.entered)
		select {
		case <-v.release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"auth": map[string]any{
		"client_token": "hvs.left-alive-at-stop", "accessor": "acc-1",
		"policies": []string{"read"}, "lease_duration": 2764800,
	}})
}

// TestStopLogsRevocationsLeftUndone: a revocation of a Vault token broker did not hand out
// that is still under way when the stop's bound for it ends is abandoned as the process exits,
// and the token lives its whole TTL; that must be logged (as a failed revocation is), or the
// operator never learns a token was left alive.
func TestStopLogsRevocationsLeftUndone(t *testing.T) {
	v := &hungRevokeVault{entered: make(chan struct{}), release: make(chan struct{})}
	defer close(v.release)
	emu, late := startEmulator(t)
	late.set(v)
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
http: {shutdown_timeout: 1s}
integrations:
  - {id: vault-read, space: prod, vault: {address: %q, role: r}, duration: 60s}
attachments:
  - {stack: vpc-prod, integration: vault-read, read: true}
`, emu.URL)})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	stopAskCredentials(ts.URL, run.RunToken)
	<-v.entered
	ts.stop() // Serve has returned: the process would exit now
	if strings.Contains(ts.Logs.String(), "hvs.left-alive-at-stop") {
		t.Fatal("the logs carry the Vault token")
	}
	for _, line := range strings.Split(ts.Logs.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, stopRevocationsLeft) &&
			strings.Contains(line, `"revocations":1`) {
			return
		}
	}
	t.Errorf("stopped with a revocation still under way and logged nothing about it; logs:\n%s",
		ts.Logs.String())
}
