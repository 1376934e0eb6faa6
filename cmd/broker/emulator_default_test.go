package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

var vaultTokenLine = regexp.MustCompile(`export VAULT_TOKEN='(hvs\.[A-Za-z0-9_-]+)'`)

// TestWalkthroughOnTheEmbeddedDefault runs the README walkthrough's step 6 on the embedded
// default configuration (its addresses moved to free loopback ports): broker emulator, broker
// serve, a run of demo-stack, then broker credentials for all four providers, Vault included,
// in the read and then the write phase.
func TestWalkthroughOnTheEmbeddedDefault(t *testing.T) {
	e := startEmbeddedDefault(t, "walkthrough-admin")
	emuAddr, d := e.emuAddr, e.broker
	if logs := e.emuLogs.String(); strings.Contains(strings.ToLower(logs), "note: vault") || !strings.Contains(logs, "Vault:") {
		t.Errorf("emulator should serve Vault without a note: %s", logs)
	}
	var created struct {
		Run      struct{ ID string }
		RunToken string
	}
	if code := d.post(t, request{path: "/v1/runs", bearer: "walkthrough-admin", body: `{"stack":"demo-stack","runType":"TRACKED"}`, out: &created}); code != 201 {
		t.Fatalf("create run: %d", code)
	}
	env := []string{"BROKER_URL=" + d.url, "BROKER_RUN_TOKEN=" + created.RunToken}

	for _, provider := range []string{"aws", "gcp", "azure"} {
		if r := broker(t, env, "credentials", provider); r.code != 0 {
			t.Errorf("credentials %s: %+v", provider, r)
		}
	}
	vault := func(scope string) {
		t.Helper()
		r := broker(t, env, "credentials", "vault")
		m := vaultTokenLine.FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil || !strings.Contains(r.stdout, "export VAULT_ADDR='http://"+emuAddr+"/vault'") {
			t.Fatalf("credentials vault (%s): %+v", scope, r)
		}
		// The token is one the emulated Vault knows, with the role's policy.
		req, _ := http.NewRequest(http.MethodGet, "http://"+emuAddr+"/vault/v1/auth/token/lookup-self", nil)
		req.Header.Set("X-Vault-Token", m[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var self struct {
			Data struct{ Policies []string } `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&self); err != nil || resp.StatusCode != 200 || !slices.Contains(self.Data.Policies, "demo") {
			t.Errorf("lookup-self (%s): %d %+v %v", scope, resp.StatusCode, self, err)
		}
	}
	vault("read")

	for _, phase := range []string{"PLANNING", "APPLYING"} {
		if code := d.post(t, request{path: "/v1/runs/" + created.Run.ID + "/phase", bearer: "walkthrough-admin", body: `{"phase":"` + phase + `"}`}); code != 200 {
			t.Fatalf("phase %s: %d", phase, code)
		}
	}
	vault("write")
	if r := broker(t, env, "credentials", "aws"); r.code != 0 || !strings.Contains(r.stdout, "AWS_ACCESS_KEY_ID") {
		t.Errorf("credentials aws (write): %+v", r)
	}
}

// embeddedDefault is `broker emulator` and `broker serve` on the embedded default configuration,
// its addresses 127.0.0.1:8080 (broker), 8081 (emulator) and 8082 (emulator over TLS) moved to
// free loopback ports and its bootstrap admin key's secret chosen by the test.
type embeddedDefault struct {
	brokerAddr, emuAddr, tlsAddr string
	broker                       *daemon
	emuLogs                      *syncbuf.Buffer
}

// startEmbeddedDefault starts both servers on the embedded default with adminSecret as the
// bootstrap admin key's secret and returns once both listen.
func startEmbeddedDefault(t *testing.T, adminSecret string) *embeddedDefault {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "config", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := &embeddedDefault{brokerAddr: freeAddr(t), emuAddr: freeAddr(t), tlsAddr: freeAddr(t)}
	sum := sha256.Sum256([]byte(adminSecret))
	for _, r := range [][2]string{
		{"127.0.0.1:8080", e.brokerAddr}, {"127.0.0.1:8081", e.emuAddr}, {"127.0.0.1:8082", e.tlsAddr},
		{"BOOTSTRAP_SECRET_SHA256", hex.EncodeToString(sum[:])},
	} {
		if !bytes.Contains(raw, []byte(r[0])) {
			t.Fatalf("the embedded default no longer holds %s", r[0])
		}
		raw = bytes.ReplaceAll(raw, []byte(r[0]), []byte(r[1]))
	}
	dir := t.TempDir()
	cfg, cert := filepath.Join(dir, "broker.yaml"), filepath.Join(dir, "emulator-cert.pem")
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	e.emuLogs = startProcess(t, []string{"XDG_STATE_HOME=" + t.TempDir()}, "emulator", "--config", cfg, "--listen", e.emuAddr, "--tls-listen", e.tlsAddr, "--cert-file", cert)
	waitListening(t, e.emuAddr, e.emuLogs)
	waitListening(t, e.tlsAddr, e.emuLogs)
	startProcess(t, []string{"SSL_CERT_FILE=" + cert, "BROKER_CONFIG="}, "serve", "--config", cfg)
	e.broker = &daemon{url: "http://" + e.brokerAddr}
	waitReady(t, e.broker.url)
	return e
}
