package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestReplicaSurvivesSIGKILL kills a replica with SIGKILL and starts it again on the same Redis:
// the runs that existed before are still served, with the same signing key.
func TestReplicaSurvivesSIGKILL(t *testing.T) {
	redis := redistest.Start(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	sum := sha256.Sum256([]byte("kill-secret"))
	kek := filepath.Join(dir, "kek")
	os.WriteFile(kek, []byte("dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=\n"), 0o600)
	cfg := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://%s
listen: %s
store: {redis: {url: "%s"}}
keys: {backend: redis, redis: {encryption_key_file: "%s"}}
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
roles: [{id: orch, actions: [run:create, run:read]}]
api_keys: [{id: k, secret_sha256: %s, bindings: [{role: orch, space: root}]}]
`, addr, addr, redis.URL(), kek, hex.EncodeToString(sum[:]))), 0o600)

	start := func() *exec.Cmd {
		cmd := exec.Command(brokerBin, "serve", "--config", cfg)
		cmd.Stderr = &syncbuf.Buffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitReady(t, "http://"+addr)
		return cmd
	}
	first := start()
	d := &daemon{url: "http://" + addr}
	var created struct {
		Run      struct{ ID string }
		RunToken string
	}
	if code := d.post(t, request{path: "/v1/runs", bearer: "kill-secret", body: `{"stack":"s1","runType":"TRACKED"}`, out: &created}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	env := []string{"BROKER_URL=" + d.url, "BROKER_RUN_TOKEN=" + created.RunToken}
	before := broker(t, env, "token")
	if before.code != 0 {
		t.Fatalf("token before kill: %+v", before)
	}
	kidBefore := jwtKID(t, before.stdout)

	if err := first.Process.Kill(); err != nil { // SIGKILL: no shutdown, no flush
		t.Fatal(err)
	}
	first.Wait()
	start()

	after := broker(t, env, "token")
	if after.code != 0 {
		t.Fatalf("token after SIGKILL and restart: %+v", after)
	}
	if kid := jwtKID(t, after.stdout); kid != kidBefore {
		t.Errorf("signing key changed across a restart: %s -> %s", kidBefore, kid)
	}
	resp, err := http.Get(d.url + "/.well-known/jwks")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("jwks after restart: %v", err)
	}
	resp.Body.Close()
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	// Generous: a race-built broker generates its RSA and P-256 keys at start-up, which on a
	// loaded 2-core CI machine took over 20 s once.
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", url)
}

func jwtKID(t *testing.T, token string) string {
	t.Helper()
	var h struct {
		Kid string `json:"kid"`
	}
	parts := splitJWT(t, token)
	data, err := base64URLDecode(parts[0])
	if err != nil || json.Unmarshal(data, &h) != nil || h.Kid == "" {
		t.Fatalf("no kid in token header")
	}
	return h.Kid
}

// TestServeWithRedisStoreNamesKeyBackendChoices checks that store.redis without a key backend
// does not start, and that the message says what to choose.
func TestServeWithRedisStoreNamesKeyBackendChoices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "redis.yaml")
	os.WriteFile(path, []byte("issuer: http://127.0.0.1:8080\nstore: {redis: {url: \"redis://127.0.0.1:1/0\"}}\n"), 0o600)
	r := broker(t, nil, "serve", "--config", path)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	for _, want := range []string{"keys.backend", "keys.redis.encryption_key_file", "keys.redis.encryption_key_env", "file", "vault-transit"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not name %q: %s", want, r.stderr)
		}
	}
}
