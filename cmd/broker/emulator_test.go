package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// brokerProcess is the broker binary running in the background: its command, its stderr, and
// done, which receives Wait's result once it has exited. It is killed when the test ends.
type brokerProcess struct {
	cmd    *exec.Cmd
	stderr *syncbuf.Buffer
	done   <-chan error
}

// startBroker runs the broker binary with args, env added to this process's environment.
func startBroker(t *testing.T, env []string, args ...string) brokerProcess {
	t.Helper()
	cmd := exec.Command(brokerBin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return brokerProcess{cmd: cmd, stderr: stderr, done: done}
}

// startProcess runs the broker binary in the background until the test ends.
func startProcess(t *testing.T, env []string, args ...string) *syncbuf.Buffer {
	t.Helper()
	p := startBroker(t, env, args...)
	// Cleanups run last registered first: kill here too, then wait for the exit.
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.done })
	return p.stderr
}

func waitListening(t *testing.T, addr string, logs *syncbuf.Buffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s: %s", addr, logs.String())
}

// TestTryWithoutACloud is the path a user takes: broker emulator and broker serve on one
// configuration, then broker credentials for each cloud and broker trust.
func TestTryWithoutACloud(t *testing.T) {
	dir := t.TempDir()
	emuAddr, tlsAddr, brokerAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	sum := sha256.Sum256([]byte("try-secret"))
	cfg := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://%[3]s
listen: %[3]s
spaces: [{id: root}, {id: demo, parent: root, inherit: true}]
stacks: [{id: s1, space: demo}]
integrations:
  - {id: aws-read, space: demo, aws: {role_arn: "arn:aws:iam::000000000000:role/read", sts_endpoint: "http://%[1]s/aws/sts", region: us-east-1}}
  - {id: aws-write, space: demo, aws: {role_arn: "arn:aws:iam::000000000000:role/write", sts_endpoint: "http://%[1]s/aws/sts"}}
  - {id: gcp, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: sa@p.iam.gserviceaccount.com, sts_endpoint: "http://%[1]s/gcp/sts", iam_credentials_endpoint: "http://%[1]s/gcp/iamcredentials"}}
  - {id: azure, space: demo, azure: {tenant_id: 00000000-0000-0000-0000-0000000000c0, client_id: 00000000-0000-0000-0000-0000000000c1, authority_host: "https://%[2]s/azure"}}
attachments:
  - {stack: s1, integration: aws-read, read: true}
  - {stack: s1, integration: aws-write, write: true}
  - {stack: s1, integration: gcp, read: true, write: true}
  - {stack: s1, integration: azure, read: true, write: true}
roles: [{id: orch, actions: [run:create, run:update]}]
api_keys: [{id: k, secret_sha256: %[4]s, bindings: [{role: orch, space: root}]}]
`, emuAddr, tlsAddr, brokerAddr, hex.EncodeToString(sum[:]))), 0o600)
	cert := filepath.Join(dir, "emulator-cert.pem")

	emuLogs := startProcess(t, []string{"XDG_STATE_HOME=" + dir}, "emulator", "--config", cfg, "--listen", emuAddr, "--tls-listen", tlsAddr, "--cert-file", cert)
	waitListening(t, emuAddr, emuLogs)
	waitListening(t, tlsAddr, emuLogs)
	startProcess(t, []string{"SSL_CERT_FILE=" + cert, "BROKER_CONFIG="}, "serve", "--config", cfg)
	waitReady(t, "http://"+brokerAddr)

	d := &daemon{url: "http://" + brokerAddr}
	var created struct {
		Run      struct{ ID string }
		RunToken string
	}
	if code := d.post(t, request{path: "/v1/runs", bearer: "try-secret", body: `{"stack":"s1","runType":"TRACKED"}`, out: &created}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	env := []string{"BROKER_URL=" + d.url, "BROKER_RUN_TOKEN=" + created.RunToken}

	out := broker(t, env, "credentials", "aws")
	if out.code != 0 || !strings.Contains(out.stdout, "export AWS_ACCESS_KEY_ID='ASIA") || !strings.Contains(out.stdout, "export AWS_REGION='us-east-1'") {
		t.Fatalf("credentials aws: %+v", out)
	}
	cp := broker(t, env, "credentials", "aws", "--format", "credential-process")
	var proc map[string]any
	if cp.code != 0 || json.Unmarshal([]byte(cp.stdout), &proc) != nil || proc["Version"] != float64(1) ||
		!strings.HasPrefix(fmt.Sprint(proc["AccessKeyId"]), "ASIA") || proc["SessionToken"] == "" || proc["Expiration"] == "" {
		t.Fatalf("credential-process: %+v", cp)
	}
	gcp := broker(t, env, "credentials", "gcp", "--format", "json")
	var ans map[string]any
	if gcp.code != 0 || json.Unmarshal([]byte(gcp.stdout), &ans) != nil || ans["gcp"] == nil || ans["scope"] != "read" {
		t.Fatalf("credentials gcp: %+v", gcp)
	}
	az := broker(t, env, "credentials", "azure")
	if az.code != 0 || !strings.Contains(az.stdout, "export ARM_CLIENT_ID='00000000-0000-0000-0000-0000000000c1'") || !strings.Contains(az.stdout, "export ARM_USE_OIDC='true'") {
		t.Fatalf("credentials azure (through the emulator's TLS, trusted via SSL_CERT_FILE): %+v", az)
	}
	if r := broker(t, env, "credentials", "vault"); r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Errorf("nothing attached: %+v", r)
	}
	if r := broker(t, env, "credentials", "gcp", "--format", "credential-process"); r.code != 2 {
		t.Errorf("credential-process for gcp: %+v", r)
	}
	if r := broker(t, env, "credentials"); r.code != 2 {
		t.Errorf("no provider: %+v", r)
	}
	tr := broker(t, nil, "trust", "aws", "--config", cfg, "--stack", "s1", "--scope", "write")
	if tr.code != 0 || !strings.Contains(tr.stdout, "oidc-provider/"+brokerAddr) || !strings.Contains(tr.stdout, "run_type:TRACKED:scope:write") {
		t.Errorf("trust aws: %+v", tr)
	}
	if r := broker(t, nil, "trust", "aws", "--config", cfg, "--stack", "s1", "--scope", "admin"); r.code != 2 {
		t.Errorf("trust with a bad scope: %+v", r)
	}
}
