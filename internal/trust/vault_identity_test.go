package trust

import (
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// twoMountsYAML has two Vault integrations on one server and namespace whose roles have one
// name on two JWT mounts: s1 writes through v-write (mount jwt), s2 reads through v-pr (mount
// jwt-pr). The role printed for each grants the Vault policy named after the role.
const twoMountsYAML = `issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true}]
stacks: [{id: s1, space: prod}, {id: s2, space: prod}]
integrations:
  - id: v-write
    space: prod
    vault: {address: "https://vault.example.com", mount: jwt, role: deploy}
  - id: v-pr
    space: prod
    vault: {address: "https://vault.example.com", mount: jwt-pr, role: Deploy}
attachments:
  - {stack: s1, integration: v-write, write: true}
  - {stack: s2, integration: v-pr, read: true}
`

// TestVaultPolicyIsTheGrantedIdentity: what a Vault login hands out is its token's policies,
// and the role broker prints grants the policy named after the role. Two roles of one name (in
// any case) on two mounts of one server grant one policy, so read tokens of the one take what
// write runs of the other take: ReadBesideWrite says so, as it does for one AWS role.
// Guards against: GrantedIdentity keying a Vault role by its mount as well as by its policy
func TestVaultPolicyIsTheGrantedIdentity(t *testing.T) {
	cfg := parseConfig(t, twoMountsYAML)
	w, err := Render(cfg, Request{Provider: "vault", Stack: "s1", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Render(cfg, Request{Provider: "vault", Stack: "s2", Scope: runs.Read})
	if err != nil {
		t.Fatal(err)
	}
	wp, rp := w.(VaultRole).TokenPolicies, r.(VaultRole).TokenPolicies
	if len(wp) != 1 || len(rp) != 1 || !strings.EqualFold(wp[0], rp[0]) {
		t.Fatalf("the roles grant policies %q and %q, want one policy in both", wp, rp)
	}
	reads, err := ReadBesideWrite(cfg, Request{Provider: "vault", Stack: "s1", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	if want := "s2 (read) through v-pr"; !slices.Contains(reads, want) {
		t.Errorf("read tokens of s2 get the policy write runs of s1 get, but ReadBesideWrite says %q, "+
			"want it to list %q", reads, want)
	}
}
