package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestDelete(t *testing.T) {
	b := startLive(t, liveFile(""))
	seed(t, b)
	steps := []struct {
		args []string
		out  string
	}{
		{[]string{"delete", "attachment", "vpc/vault-w"}, "attachment/vpc/vault-w deleted\n"},
		{[]string{"delete", "integrations", "vault-w"}, "integration/vault-w deleted\n"},
		{[]string{"delete", "stack", "vpc"}, "stack/vpc deleted\n"},
	}
	for _, s := range steps {
		if r := b.cli(t, liveAdmin, s.args...); r.code != 0 || r.stdout != s.out || r.stderr != "" {
			t.Fatalf("%v: %+v", s.args, r)
		}
	}
	if r := b.cli(t, liveAdmin, "get", "stack", "vpc"); r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Errorf("stack after delete: %+v", r)
	}
	if r := b.cli(t, liveAdmin, "get", "integrations"); len(table(t, r.stdout)) != 1 {
		t.Errorf("integrations after delete:\n%s", r.stdout)
	}
}

var secretLine = regexp.MustCompile(`(?m)^secret \(shown once; the broker keeps only its hash\): (brk_[A-Za-z0-9_-]+)$`)

func TestAPIKeysCreatePrintsASecretThatWorks(t *testing.T) {
	b := startLive(t, liveFile(""))
	r := b.cli(t, liveAdmin, "api-keys", "create", "--id", "ci", "--bind", "reader@root", "--bind", "admin@base")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("create: %+v", r)
	}
	m := secretLine.FindStringSubmatch(r.stdout)
	if m == nil || !strings.HasPrefix(r.stdout, "api-key/ci created, bound to reader@root,admin@base\n") {
		t.Fatalf("output:\n%s", r.stdout)
	}
	secret := m[1]
	if strings.Count(r.stdout, secret) != 1 {
		t.Error("the secret is printed more than once")
	}

	// The secret authenticates, with the key's bindings.
	g := b.cli(t, secret, "get", "spaces")
	if g.code != 0 || len(table(t, g.stdout)) != 2 {
		t.Fatalf("get spaces with the new key: %+v", g)
	}
	if d := b.cli(t, secret, "delete", "space", "base"); d.code != 1 || !strings.Contains(d.stderr, "403") {
		t.Errorf("the new key's admin binding on base reaches its parent: %+v", d)
	}
	l := b.cli(t, liveAdmin, "get", "api-keys", "ci")
	if rows := table(t, l.stdout); len(rows) != 1 || rows[0][1] != "reader@root,admin@base" || strings.Contains(l.stdout, secret) {
		t.Errorf("get api-keys ci:\n%s", l.stdout)
	}

	// A key may not bind more than it holds.
	if r := b.cli(t, liveBaseKey, "api-keys", "create", "--id", "wider", "--bind", "admin@root"); r.code != 1 || !strings.Contains(r.stderr, "403") {
		t.Errorf("base admin creating a root admin: %+v", r)
	}

	// Deleted, the secret stops working.
	if d := b.cli(t, liveAdmin, "delete", "api-key", "ci"); d.code != 0 || d.stdout != "api-key/ci deleted\n" {
		t.Fatalf("delete: %+v", d)
	}
	if g := b.cli(t, secret, "get", "spaces"); g.code != 1 || !strings.Contains(g.stderr, "401") || strings.Contains(g.stderr, secret) {
		t.Errorf("get with a deleted key: %+v", g)
	}
}

func TestAPIKeysCreateJSON(t *testing.T) {
	b := startLive(t, liveFile(""))
	r := b.cli(t, liveAdmin, "api-keys", "create", "--id", "ci", "--bind", "reader@base", "-o", "json")
	var ans struct {
		APIKey struct {
			ID        string `json:"id"`
			ManagedBy string `json:"managedBy"`
		} `json:"apiKey"`
		Secret string `json:"secret"`
	}
	if r.code != 0 || jsonUnmarshal(r.stdout, &ans) != nil || ans.APIKey.ID != "ci" || ans.APIKey.ManagedBy != "api" || ans.Secret == "" {
		t.Fatalf("create -o json: %+v", r)
	}
	if g := b.cli(t, ans.Secret, "get", "space", "base"); g.code != 0 {
		t.Errorf("the secret does not authenticate: %+v", g)
	}
}
