package trust

import (
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
