package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestKeysRefusesAnInvalidRotationPolicy pins that with --dir a rotation policy that
// keys.Policy.Validate refuses (negative prepublish or retain, a period of zero, prepublish not
// under the period, more than the maximum) is a usage error (exit 2) that leaves the key set
// unchanged: a negative prepublish would make the new key sign before it was ever published.
// Guards against: keys.go:116 `if err := policy.Validate(); err != nil { return usagef(...) }`
// dropped
func TestKeysRefusesAnInvalidRotationPolicy(t *testing.T) {
	dir, set := generatedKeyDir(t, "ES256")
	for _, flags := range [][]string{
		{"--prepublish", "-1h"},
		{"--retain", "-1h"},
		{"--period", "0s"},
		{"--period", "1h", "--prepublish", "1h"},
		{"--period", "1000000h"},
	} {
		r := broker(t, nil, append([]string{"keys", "rotate", "--dir", dir}, flags...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "policy") || strings.Contains(r.stdout, "rotation started") {
			t.Errorf("keys rotate %v: %+v; want exit %d naming the policy", flags, r, exitUsage)
		}
	}
	if after, _ := keys.NewFile(dir).Load(context.Background()); after.Generation != set.Generation || len(after.Keys) != 1 {
		t.Errorf("refused rotations changed the set: generation %d -> %d, %d keys", set.Generation, after.Generation, len(after.Keys))
	}
}

// TestKeysRevokeReplacementSignsNow pins that after `broker keys revoke` the replacement key signs
// as of the moment the command ran (wall clock), not from some later time: with the revoked key
// gone, a replacement that signs later would leave the servers without a signing key.
// Guards against: keys.go:197 `keys.RevokeConfig{..., Now: c.now}` -> a Now later than the
// command's time
func TestKeysRevokeReplacementSignsNow(t *testing.T) {
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			dir, set := generatedKeyDir(t, alg)
			leaked := set.Keys[0].KID
			before := time.Now()
			r := broker(t, nil, "keys", "revoke", "--dir", dir, "--kid", leaked)
			after := time.Now()
			if r.code != 0 {
				t.Fatalf("revoke: %+v", r)
			}
			now, err := keys.NewFile(dir).Load(context.Background())
			if err != nil || len(now.Keys) != 1 {
				t.Fatalf("Load after revoke = %d keys, %v", len(now.Keys), err)
			}
			s, ok := keys.Signing(after, now.Metas(), alg)
			if !ok || s.KID != now.Keys[0].KID || s.KID == leaked {
				t.Fatalf("right after revoke, Signing = %+v, %v; want the replacement %s", s, ok, now.Keys[0].KID)
			}
			if c := now.Keys[0].Created; c.Before(before.Add(-time.Second)) || c.After(after.Add(time.Second)) {
				t.Errorf("the replacement was created at %s, not between %s and %s", c, before, after)
			}
			list := broker(t, nil, "keys", "list", "--dir", dir)
			if list.code != 0 || strings.Contains(list.stdout, leaked) || !strings.Contains(list.stdout, now.Keys[0].KID) {
				t.Errorf("keys list after revoke: %+v", list)
			}
		})
	}
}
