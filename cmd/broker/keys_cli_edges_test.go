package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/keys"
)

// TestKeysConfigRefusesPeriodFlag checks that with --config every rotation-policy flag,
// --period included, is a usage error naming the flag: the policy comes from the file.
// Guards against: keys.go:"period" dropped from policyFlags
func TestKeysConfigRefusesPeriodFlag(t *testing.T) {
	mem := filepath.Join(t.TempDir(), "memory.yaml")
	if err := os.WriteFile(mem, []byte("issuer: http://127.0.0.1:8080\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := broker(t, nil, "keys", "rotate", "--config", mem, "--period", "1h")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--period") {
		t.Errorf("keys rotate --config --period: %+v; want exit 2 naming --period", r)
	}
}

// TestKeysRotateAlgTouchesOnlyThatChain checks that rotate --alg rotates the chain of that
// algorithm only: the key set's other algorithms are left as they are.
// Guards against: keys.go:rc.Algs = []string{c.policy.Alg} dropped
func TestKeysRotateAlgTouchesOnlyThatChain(t *testing.T) {
	dir, set := generatedKeyDir(t, "ES256")
	r := broker(t, nil, "keys", "rotate", "--dir", dir, "--alg", "RS256")
	if strings.Contains(r.stdout, "ES256 key") {
		t.Errorf("keys rotate --alg RS256 on an ES256 set rotated ES256: %+v", r)
	}
	list := broker(t, nil, "keys", "list", "--dir", dir)
	if list.code != 0 || strings.Count(list.stdout, "ES256") != len(set.Keys) {
		t.Errorf("after rotate --alg RS256 the ES256 chain changed:\n%s", list.stdout)
	}
}

// TestKeysListShowsRetirement checks that keys list prints the retirement time of a key
// that a rotation scheduled to retire, not "-".
// Guards against: keys.go:the RETIRES column always "-"
func TestKeysListShowsRetirement(t *testing.T) {
	dir, _ := generatedKeyDir(t, "ES256")
	r := broker(t, nil, "keys", "rotate", "--dir", dir, "--prepublish", "1h")
	if r.code != 0 || !strings.Contains(r.stdout, "retires then") {
		t.Fatalf("rotate: %+v", r)
	}
	list := broker(t, nil, "keys", "list", "--dir", dir)
	retiring := 0
	for _, line := range strings.Split(strings.TrimSpace(list.stdout), "\n")[1:] {
		if f := strings.Fields(line); len(f) == 6 && f[5] != "-" {
			retiring++
		}
	}
	if list.code != 0 || retiring != 1 {
		t.Errorf("keys list after a rotation: %d keys with a retirement time, want 1:\n%s",
			retiring, list.stdout)
	}
}

// TestKeysRevokeNamesTheKeyItRetires checks that revoking a pending successor, which
// retires the key signing until then, says which key stopped signing.
// Guards against: keys.go:the "stopped signing" line never printed
func TestKeysRevokeNamesTheKeyItRetires(t *testing.T) {
	dir, set := generatedKeyDir(t, "ES256")
	signing := set.Keys[0].KID
	if r := broker(t, nil, "keys", "rotate", "--dir", dir, "--prepublish", "1h"); r.code != 0 {
		t.Fatalf("rotate: %+v", r)
	}
	rotated, err := keys.NewFile(dir).Load(context.Background())
	if err != nil || len(rotated.Keys) != 2 {
		t.Fatalf("Load after rotate = %d keys, %v", len(rotated.Keys), err)
	}
	pending := rotated.Keys[0].KID
	if pending == signing {
		pending = rotated.Keys[1].KID
	}
	r := broker(t, nil, "keys", "revoke", "--dir", dir, "--kid", pending)
	if r.code != 0 || !strings.Contains(r.stdout, "key "+signing+" stopped signing") {
		t.Errorf("revoke of the pending key %s: %+v; want it to name %s as stopped signing",
			pending, r, signing)
	}
}
