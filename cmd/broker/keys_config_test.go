package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
	"github.com/brokerhq/broker/keys"
)

// rotationStarted matches a line of `broker keys rotate`: the new KID and when it signs.
var rotationStarted = regexp.MustCompile(`rotation started: \w+ key (\S+) is published now and signs from ([^;\s]+)`)

// rotateOutput runs `broker keys rotate` with args and returns the new KID and the delay between
// the command's start and the key's activation, which must be the policy's lead (the command's
// own run time aside).
func rotateOutput(t *testing.T, args ...string) (kid string, lead time.Duration) {
	t.Helper()
	before := time.Now()
	r := broker(t, nil, append([]string{"keys", "rotate"}, args...)...)
	if r.code != 0 {
		t.Fatalf("keys rotate: %+v", r)
	}
	m := rotationStarted.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("keys rotate printed %q", r.stdout)
	}
	at, err := time.Parse(time.RFC3339Nano, m[2])
	if err != nil {
		t.Fatal(err)
	}
	return m[1], at.Sub(before)
}

// checkLead fails unless lead is prepublish plus two of the servers' refresh intervals, give or take
// the command's run time.
func checkLead(t *testing.T, lead, prepublish time.Duration) {
	t.Helper()
	want := prepublish + 2*keys.RefreshInterval(prepublish)
	if lead < want || lead > want+10*time.Second {
		t.Errorf("the new key signs %v after the command started, want %v (prepublish %v plus two refresh intervals)", lead, want, prepublish)
	}
}

// TestKeysConfigRotatesTheRedisKeySetOfARunningServer: `broker keys rotate --config` opens the
// Redis key set as the server does (store and key encryption key from the file), uses the
// file's prepublish, and the running server publishes the new key.
func TestKeysConfigRotatesTheRedisKeySetOfARunningServer(t *testing.T) {
	redis := redistest.Start(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	sum := sha256.Sum256([]byte("keys-secret"))
	kek := filepath.Join(dir, "kek")
	os.WriteFile(kek, []byte("dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=\n"), 0o600)
	cfg := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://%s
listen: %s
store: {redis: {url: "%s"}}
keys:
  backend: redis
  redis: {encryption_key_file: "%s"}
  rotation: {period: 1h, prepublish: 8s, retain: 1h}
spaces: [{id: root}]
stacks: [{id: s1, space: root}]
roles: [{id: orch, actions: [run:create, run:read]}]
api_keys: [{id: k, secret_sha256: %s, bindings: [{role: orch, space: root}]}]
`, addr, addr, redis.URL(), kek, hex.EncodeToString(sum[:]))), 0o600)
	cmd := exec.Command(brokerBin, "serve", "--config", cfg)
	cmd.Stderr = &syncbuf.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitReady(t, "http://"+addr)

	kid, lead := rotateOutput(t, "--config", cfg)
	checkLead(t, lead, 8*time.Second)
	list := broker(t, nil, "keys", "list", "--config", cfg)
	if list.code != 0 || !strings.Contains(list.stdout, kid) || !strings.Contains(list.stdout, string(keys.StatePending)) {
		t.Fatalf("keys list --config after the rotation: %+v", list)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !jwksHas(t, "http://"+addr, kid) {
		if time.Now().After(deadline) {
			t.Fatalf("the server never published %s", kid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func jwksHas(t *testing.T, url, kid string) bool {
	t.Helper()
	resp, err := http.Get(url + "/.well-known/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			return true
		}
	}
	return false
}

// TestKeysConfigFileBackend: with --config the key directory, the policy and the algorithm
// come from the file.
func TestKeysConfigFileBackend(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`issuer: http://127.0.0.1:8080
keys:
  backend: file
  dir: %s
  rotation: {period: 720h, prepublish: 2h, retain: 24h}
`, filepath.Join(dir, "keys"))), 0o600)
	if r := broker(t, nil, "keys", "generate", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, filepath.Join(dir, "keys")) {
		t.Fatalf("generate --config: %+v", r)
	}
	_, lead := rotateOutput(t, "--config", cfg)
	checkLead(t, lead, 2*time.Hour)

	// --dir takes the policy from the flags, with the same lead.
	plain := t.TempDir()
	if r := broker(t, nil, "keys", "generate", "--dir", plain); r.code != 0 {
		t.Fatalf("generate --dir: %+v", r)
	}
	_, lead = rotateOutput(t, "--dir", plain, "--prepublish", "1h")
	checkLead(t, lead, time.Hour)

	// The first key is of keys.algorithm, the one the servers sign with; another --alg is a
	// usage error.
	es := filepath.Join(dir, "es.yaml")
	os.WriteFile(es, []byte(fmt.Sprintf("issuer: http://127.0.0.1:8080\nkeys: {backend: file, dir: %s, algorithm: ES256}\n",
		filepath.Join(dir, "es-keys"))), 0o600)
	if r := broker(t, nil, "keys", "generate", "--config", es, "--alg", "RS256"); r.code != 2 || !strings.Contains(r.stderr, "keys.algorithm ES256") {
		t.Errorf("generate --config with another --alg: exit %d, stderr %q; want a usage error naming keys.algorithm", r.code, r.stderr)
	}
	if r := broker(t, nil, "keys", "generate", "--config", es); r.code != 0 || !strings.Contains(r.stdout, "generated ES256 key") {
		t.Errorf("generate --config of an ES256 configuration: %+v; want an ES256 key", r)
	}
}

func TestKeysConfigRefusals(t *testing.T) {
	dir := t.TempDir()
	mem := filepath.Join(dir, "memory.yaml")
	os.WriteFile(mem, []byte("issuer: http://127.0.0.1:8080\n"), 0o600)
	transit := filepath.Join(dir, "transit.yaml")
	os.WriteFile(transit, []byte("issuer: http://127.0.0.1:8080\nkeys:\n  backend: vault-transit\n"+
		"  vault_transit: {address: http://127.0.0.1:8200, mount: transit, key: broker-oidc}\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"both", []string{"keys", "list", "--dir", dir, "--config", mem}, 2, "either --dir or --config"},
		{"policy flag with config", []string{"keys", "rotate", "--config", mem, "--prepublish", "1h"}, 2, "--prepublish"},
		{"memory backend", []string{"keys", "rotate", "--config", mem}, 1, "memory"},
		{"vault-transit without store.redis", []string{"keys", "revoke", "--config", transit, "--kid", "x"}, 1, "without store.redis"},
		{"missing file", []string{"keys", "list", "--config", filepath.Join(dir, "nope.yaml")}, 1, "nope.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := broker(t, nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tc.code, tc.msg)
			}
		})
	}
}

// TestKeysListMissingDirectory: listing a directory that does not exist is an error (exit 1,
// one line naming it), not an empty table.
func TestKeysListMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	r := broker(t, nil, "keys", "list", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, dir) || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 naming the directory", r.code, r.stdout, r.stderr)
	}
}

// TestKeysConfigRedisDownIsOneLine: with the store's Redis unreachable, broker keys fails with
// one line on stderr saying so, without the Redis client's own log lines before it.
func TestKeysConfigRedisDownIsOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	os.WriteFile(kek, []byte("dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=\n"), 0o600)
	cfg := filepath.Join(dir, "broker.yaml")
	os.WriteFile(cfg, []byte("issuer: http://127.0.0.1:8080\nstore: {redis: {url: \"redis://"+addr+"/0\"}}\n"+
		"keys: {backend: redis, redis: {encryption_key_file: "+kek+"}}\n"), 0o600)
	r := broker(t, nil, "keys", "list", "--config", cfg)
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "redis unavailable") {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line saying Redis is unavailable", r.code, r.stderr)
	}
}
