package trust

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/config"
)

// TestGrantedIdentityNamesOneIdentityOnce: the spellings a cloud takes for one identity name it
// once, so that neither the run-rights rule on read attachments nor the printed trust can be
// split by spelling: an AWS role's name in any case and under any path, an Azure application
// under any spelling of its tenant; other roles, accounts, partitions and applications differ.
// On the old code the role's case or path and the tenant's spelling made another identity.
func TestGrantedIdentityNamesOneIdentityOnce(t *testing.T) {
	aws := func(arn string) config.Integration { return config.Integration{AWS: &config.AWS{RoleARN: arn}} }
	azure := func(tenant, client string) config.Integration {
		return config.Integration{Azure: &config.Azure{TenantID: tenant, ClientID: client}}
	}
	const client = "aaaaaaaa-2222-3333-4444-55555555555b"
	base := GrantedIdentity(aws("arn:aws:iam::123456789012:role/deploy-write"))
	app := GrantedIdentity(azure("00000000-0000-0000-0000-000000000001", client))
	for _, tc := range []struct {
		name string
		in   config.Integration
		want string
		same bool
	}{
		{"the role's name in another case", aws("arn:aws:iam::123456789012:role/Deploy-Write"), base, true},
		{"the role under a path", aws("arn:aws:iam::123456789012:role/team/p/deploy-write"), base, true},
		{"another role", aws("arn:aws:iam::123456789012:role/deploy-read"), base, false},
		{"another account", aws("arn:aws:iam::210987654321:role/deploy-write"), base, false},
		{"another partition", aws("arn:aws-us-gov:iam::123456789012:role/deploy-write"), base, false},
		{"the tenant by its domain", azure("contoso.onmicrosoft.com", client), app, true},
		{"the client id in upper case", azure("00000000-0000-0000-0000-000000000001", "AAAAAAAA-2222-3333-4444-55555555555B"), app, true},
		{"another application", azure("00000000-0000-0000-0000-000000000001", "99999999-2222-3333-4444-555555555555"), app, false},
	} {
		if got := GrantedIdentity(tc.in); (got == tc.want) != tc.same {
			t.Errorf("%s: %q, same as %q: %v, want %v", tc.name, got, tc.want, got == tc.want, tc.same)
		}
	}
}

// TestPairsByIdentity: attachments are grouped by the identity their integration grants, not
// by integration, so two integrations of one role share a group and a read pair beside a write
// pair of that role is found whichever integration each names; an attachment for both scopes
// is in both lists; an unknown integration is left out and each integration is looked up once.
func TestPairsByIdentity(t *testing.T) {
	integrations := map[string]config.Integration{
		"w":     {AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/deploy"}},
		"r":     {AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/team/Deploy"}},
		"other": {AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/other"}},
	}
	lookups := map[string]int{}
	lookup := func(id string) (config.Integration, bool) {
		lookups[id]++
		in, ok := integrations[id]
		return in, ok
	}
	at := func(stack, in string, read, write bool) config.EffectiveAttachment {
		return config.EffectiveAttachment{Attachment: config.Attachment{Stack: stack, Integration: in, Read: read, Write: write}}
	}
	pairs := PairsByIdentity(Each([]config.EffectiveAttachment{
		at("a", "w", false, true), at("b", "r", true, false), at("c", "other", true, true),
		at("d", "gone", true, true), at("e", "r", true, false),
	}), lookup)
	role := GrantedIdentity(integrations["w"])
	stacks := func(atts []*config.EffectiveAttachment) (s []string) {
		for _, a := range atts {
			s = append(s, a.Stack)
		}
		return s
	}
	if got := pairs[role]; !slices.Equal(stacks(got.Write), []string{"a"}) || !slices.Equal(stacks(got.Read), []string{"b", "e"}) || !got.ReadIntoWrite() {
		t.Errorf("the shared role: write %v, read %v, read into write %v; want [a], [b e], true", stacks(got.Write), stacks(got.Read), got.ReadIntoWrite())
	}
	if got := pairs[GrantedIdentity(integrations["other"])]; !slices.Equal(stacks(got.Write), []string{"c"}) || !slices.Equal(stacks(got.Read), []string{"c"}) {
		t.Errorf("a pair for both scopes: write %v, read %v; want [c] in both", stacks(got.Write), stacks(got.Read))
	}
	if len(pairs) != 2 {
		t.Errorf("%d identities, want 2 (the unknown integration left out): %v", len(pairs), pairs)
	}
	if lookups["r"] != 1 || lookups["gone"] != 1 {
		t.Errorf("lookups %v, want each integration once", lookups)
	}
	if (IdentityPairs{Read: pairs[role].Read}).ReadIntoWrite() || (IdentityPairs{Write: pairs[role].Write}).ReadIntoWrite() {
		t.Error("read alone or write alone reported as read into write")
	}
}
