package trust

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestGrantedIdentityDistinguishes: identities that the cloud keeps apart are kept apart:
// two Vault roles of one mount, and an AWS role and a non-role principal of the same name; an
// integration of no provider grants no identity ("").
// Guards against: shared.go:GrantedIdentity vault key without the role
// Guards against: shared.go:awsRoleKey dropping the "role/" check
// Guards against: shared.go:GrantedIdentity returning non-empty for no provider
func TestGrantedIdentityDistinguishes(t *testing.T) {
	vault := func(role string) config.Integration {
		return config.Integration{Vault: &config.Vault{Address: "https://vault.example.com", Role: role}}
	}
	aws := func(arn string) config.Integration { return config.Integration{AWS: &config.AWS{RoleARN: arn}} }
	for _, tc := range []struct {
		name string
		a, b config.Integration
	}{
		{"two vault roles", vault("deploy"), vault("plan")},
		{"a role and a user of one name", aws("arn:aws:iam::123456789012:role/deploy"), aws("arn:aws:iam::123456789012:user/deploy")},
	} {
		if x, y := GrantedIdentity(tc.a), GrantedIdentity(tc.b); x == y {
			t.Errorf("%s: both are %q", tc.name, x)
		}
	}
	if got := GrantedIdentity(config.Integration{ID: "none"}); got != "" {
		t.Errorf("an integration of no provider grants %q, want \"\"", got)
	}
}

// TestPairsByIdentityLeavesOutNoIdentity: an attachment whose integration grants no
// identity is in no group.
// Guards against: shared.go:GrantedIdentity returning non-empty for no provider
func TestPairsByIdentityLeavesOutNoIdentity(t *testing.T) {
	lookup := func(id string) (config.Integration, bool) { return config.Integration{ID: id}, true }
	atts := []config.EffectiveAttachment{{Attachment: config.Attachment{Stack: "a", Integration: "none", Read: true, Write: true}}}
	if got := PairsByIdentity(Each(atts), lookup); len(got) != 0 {
		t.Errorf("groups %v, want none", got)
	}
}

// TestReadBesideWrite: ReadBesideWrite lists, as "stack (read) through integration", the
// read attachments of the identity the request's integration grants, and only when some stack
// is also attached to that identity for write; an identity with read attachments alone yields
// nil.
// Guards against: beside.go:ReadBesideWrite listing reads although no write shares the identity
// Guards against: beside.go:ReadBesideWrite dropping "through <integration>" from each entry
func TestReadBesideWrite(t *testing.T) {
	cfg := sharedConfig(t)
	for _, tc := range []struct {
		req  Request
		want []string
	}{
		{Request{Provider: "aws", Stack: "b", Scope: runs.Write}, []string{"a (read) through aws-a", "c (read) through aws-c"}},
		{Request{Provider: "gcp", Stack: "a", Scope: runs.Write}, []string{"a (read) through gcp-team"}},
		// Role "other" is attached to b for read alone: nothing writes through it.
		{Request{Provider: "aws", Stack: "b", Scope: runs.Read}, nil},
	} {
		got, err := ReadBesideWrite(cfg, tc.req)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s (%s): %q, want %q", tc.req.Provider, tc.req.Stack, tc.req.Scope, got, tc.want)
		}
	}
}

// TestShellWordQuotesExpansionsAndEmpty: a word holding a shell expansion character is
// quoted so the shell reads it literally, and an empty word is written as ” so it stays a word.
// Guards against: vault_command.go:plainWord accepting '$'
// Guards against: vault_command.go:plainWord accepting the empty word
func TestShellWordQuotesExpansionsAndEmpty(t *testing.T) {
	for in, want := range map[string]string{
		"$HOME":  "'$HOME'",
		"a$(id)": "'a$(id)'",
		"":       "''",
		"a*":     "'a*'",
		"~root":  "'~root'",
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
