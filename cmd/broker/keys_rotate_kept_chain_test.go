package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestKeysRotateConfigAlgOfAKeptChain checks that `broker keys rotate --config FILE --alg A`
// rotates chain A alone when A is one the servers keep: with keys.algorithm ES256 they keep an
// RS256 chain too (for Entra ID), and rotating it under the file's policy is no usage error.
func TestKeysRotateConfigAlgOfAKeptChain(t *testing.T) {
	dir := t.TempDir()
	keyDir := filepath.Join(dir, "keys")
	now := time.Now().Add(-time.Hour)
	var set keys.Set
	for _, alg := range []string{keys.ES256, keys.RS256} {
		k, err := keys.Generate(alg, now)
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, k)
	}
	set.Generation = 1
	if err := keys.NewFile(keyDir).Save(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "broker.yaml")
	body := fmt.Sprintf("issuer: http://127.0.0.1:8080\n"+
		"keys: {backend: file, dir: %s, algorithm: ES256}\n", keyDir)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := broker(t, nil, "keys", "rotate", "--config", cfg, "--alg", "RS256")
	if r.code != 0 || !strings.Contains(r.stdout, "rotation started: RS256") ||
		strings.Contains(r.stdout, "ES256") {
		t.Errorf("keys rotate --config (keys.algorithm ES256) --alg RS256: %+v; want the RS256 "+
			"chain alone rotated", r)
	}
}

// TestKeysGenerateConfigAlgIsTheFiles checks that `broker keys generate --config FILE` makes no
// first key of another algorithm than keys.algorithm: it would sign until one of the servers'
// own algorithm was published for prepublish.
func TestKeysGenerateConfigAlgIsTheFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "broker.yaml")
	body := fmt.Sprintf("issuer: http://127.0.0.1:8080\n"+
		"keys: {backend: file, dir: %s, algorithm: ES256}\n", filepath.Join(dir, "keys"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	r := broker(t, nil, "keys", "generate", "--config", cfg, "--alg", "RS256")
	if r.code != 2 || !strings.Contains(r.stderr, "is not keys.algorithm ES256") {
		t.Errorf("keys generate --config (keys.algorithm ES256) --alg RS256: %+v; want a usage "+
			"error naming keys.algorithm", r)
	}
}
