package main

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
)

// TestEnvFormatSurvivesQuotes: `broker credentials --format env` prints export lines
// meant for eval; a value holding a single quote (a Vault token, a provider's secret are opaque
// strings) must come back out of the shell unchanged, never run as shell code.
func TestEnvFormatSurvivesQuotes(t *testing.T) {
	const tricky = `a'b; echo INJECTED; x='y`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"provider":"vault","integration":"v","scope":"read","expiresAt":"2030-01-01T00:00:00Z",` +
			`"env":{"VAULT_ADDR":"http://127.0.0.1:8200","VAULT_TOKEN":"a'b; echo INJECTED; x='y"}}`))
	}))
	defer ts.Close()
	res := runCLI(map[string]string{"BROKER_URL": ts.URL, "BROKER_RUN_TOKEN": "brk_run_x"}, "credentials", "vault", "--format", "env")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	out, err := exec.Command("sh", "-c", res.stdout+`printf %s "$VAULT_TOKEN"`).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v: %s", err, out)
	}
	if string(out) != tricky {
		t.Fatalf("eval of %q gave %q, want %q", res.stdout, out, tricky)
	}
}
