package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/keys"
)

// TestKeysRevoke: `broker keys revoke` removes the named key from the key directory and puts a
// new key of its algorithm in its place, signing at once; an unknown kid and a missing --kid are
// refused without touching the set.
func TestKeysRevoke(t *testing.T) {
	dir, set := generatedKeyDir(t, "ES256")
	leaked := set.Keys[0].KID

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no kid", []string{"keys", "revoke", "--dir", dir}, 2, "--kid"},
		{"kid on another subcommand", []string{"keys", "list", "--dir", dir, "--kid", leaked}, 2, "--kid"},
		{"unknown kid", []string{"keys", "revoke", "--dir", dir, "--kid", "nope"}, 1, "no key nope"},
	} {
		r := broker(t, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tc.name, r.code, r.stderr, tc.code, tc.msg)
		}
	}
	if after, _ := keys.NewFile(dir).Load(context.Background()); after.Generation != set.Generation {
		t.Fatalf("refused revocations changed the set: generation %d -> %d", set.Generation, after.Generation)
	}

	r := broker(t, nil, "keys", "revoke", "--dir", dir, "--kid", leaked)
	if r.code != 0 || !strings.Contains(r.stdout, "revoked "+leaked) {
		t.Fatalf("revoke: %+v", r)
	}
	after, err := keys.NewFile(dir).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	kids := make([]string, 0, len(after.Keys))
	for _, k := range after.Keys {
		kids = append(kids, k.KID)
	}
	if slices.Contains(kids, leaked) || len(after.Keys) != 1 || after.Keys[0].Alg != keys.ES256 {
		t.Fatalf("after revoke the set holds %v (%s), want one new ES256 key without %s", kids, after.Keys[0].Alg, leaked)
	}
	if !strings.Contains(r.stdout, after.Keys[0].KID+" signs from now on") {
		t.Fatalf("revoke output %q does not name the replacement %s", r.stdout, after.Keys[0].KID)
	}
	if s, ok := keys.Signing(after.Keys[0].Created, after.Metas(), keys.ES256); !ok || s.KID != after.Keys[0].KID {
		t.Fatalf("the replacement does not sign from its creation: %+v", s)
	}
}

// generatedKeyDir runs `broker keys generate` of one alg key into a new directory and returns
// the directory and the set it holds.
func generatedKeyDir(t *testing.T, alg string) (string, keys.Set) {
	t.Helper()
	dir := t.TempDir()
	if r := broker(t, nil, "keys", "generate", "--dir", dir, "--alg", alg); r.code != 0 {
		t.Fatalf("generate: %+v", r)
	}
	set, err := keys.NewFile(dir).Load(context.Background())
	if err != nil || len(set.Keys) != 1 {
		t.Fatalf("Load = %d keys, %v", len(set.Keys), err)
	}
	return dir, set
}
