package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmulatorIssuerFlag requires broker emulator --issuer to trust another issuer than its
// configuration's: the embedded default's demo, trusted for a broker whose issuer moved (as
// broker serve --listen moves it), hands that broker's runs their credentials.
func TestEmulatorIssuerFlag(t *testing.T) {
	dir := t.TempDir()
	brokerAddr := freeAddr(t)
	em := runEmulatorUntilReady(t, dir, nil, "--issuer", "http://"+brokerAddr)

	// The embedded default's demo stack and AWS integration, with its endpoint at this emulator.
	sum := sha256.Sum256([]byte("issuer-secret"))
	cfg := filepath.Join(dir, "broker.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://%[1]s
listen: %[1]s
spaces: [{id: root}, {id: demo, parent: root, inherit: true}]
stacks: [{id: demo-stack, space: demo}]
integrations:
  - {id: aws-demo-read, space: demo, aws: {mode: web-identity, role_arn: "arn:aws:iam::000000000000:role/demo-read", region: us-east-1, sts_endpoint: "http://%[2]s/aws/sts"}}
attachments: [{stack: demo-stack, integration: aws-demo-read, read: true}]
roles: [{id: orch, actions: [run:create]}]
api_keys: [{id: k, secret_sha256: %[3]s, bindings: [{role: orch, space: root}]}]
`, brokerAddr, em.addr, hex.EncodeToString(sum[:]))), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, []string{"BROKER_CONFIG="}, "serve", "--config", cfg)
	waitReady(t, "http://"+brokerAddr)
	d := &daemon{url: "http://" + brokerAddr}
	var created struct{ RunToken string }
	if code := d.post(t, request{path: "/v1/runs", bearer: "issuer-secret", body: `{"stack":"demo-stack","runType":"TRACKED"}`, out: &created}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	r := broker(t, []string{"BROKER_URL=" + d.url, "BROKER_RUN_TOKEN=" + created.RunToken}, "credentials", "aws")
	if r.code != 0 || !strings.Contains(r.stdout, "export AWS_ACCESS_KEY_ID='ASIA") {
		t.Fatalf("credentials aws through an emulator trusting --issuer: %+v", r)
	}

	if r := broker(t, []string{"BROKER_CONFIG="}, "emulator", "--issuer", "127.0.0.1:8080", "--state-dir", filepath.Join(dir, "s")); r.code != 2 || !strings.Contains(r.stderr, "--issuer") {
		t.Errorf("an issuer that is no URL: %+v", r)
	}
}
