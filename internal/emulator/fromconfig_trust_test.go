package emulator

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// vaultLoginCase is a Vault login at a Set's emulator: stack's write runs of space root, with
// audience vault, log in as role on mount.
type vaultLoginCase struct {
	set                *Set
	iss                *oidctest.Issuer
	mount, role, stack string
}

// loginThroughEmulator performs l with Vault's own client and returns its answer.
func loginThroughEmulator(t *testing.T, l vaultLoginCase) (*vaultapi.Secret, error) {
	t.Helper()
	srv := httptest.NewServer(l.set.HTTPHandler())
	t.Cleanup(srv.Close)
	jwt := l.iss.Sign(t, oidctest.Token{Claims: map[string]any{
		"sub": "space:root:stack:" + l.stack + ":run_type:TRACKED:scope:write", "aud": "vault",
		"spaceId": "root", "callerType": "stack", "callerId": l.stack, "scope": "write",
	}})
	client, err := vaultapi.NewClient(&vaultapi.Config{Address: srv.URL + VaultPath, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	client.ClearToken()
	return client.Logical().Write("auth/"+l.mount+"/login", map[string]any{"role": l.role, "jwt": jwt})
}

// TestVaultRoleIsWhatTrustPrints pins that an emulated Vault role is served on the
// integration's own mount, grants exactly the integration's policy (and Vault's default) and
// issues tokens living the integration's duration; and that integrations on two mounts get a
// mount each, each holding its own roles.
// Guards against: token TTL not taken from the printed role, fromconfig_vault.go:emulatedRole
// Guards against: extra policy granted, fromconfig_vault.go:emulatedRole
// Guards against: every role on mount "jwt", fromconfig_vault.go:vaultTrust
// Guards against: every role appended to the first mount, fromconfig_vault.go:vaultTrust
func TestVaultRoleIsWhatTrustPrints(t *testing.T) {
	iss := oidctest.Start(t)
	set := fromYAML(t, `issuer: `+iss.URL+`
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}, {id: c, space: root}]
integrations:
  - {id: v1, space: root, audience: vault, duration: 15m, vault: {address: "http://127.0.0.1:8081/vault", mount: broker, role: deploy}}
  - {id: v2, space: root, audience: vault, duration: 20m, vault: {address: "http://127.0.0.1:8081/vault", mount: other, role: plan}}
  - {id: v3, space: root, audience: vault, duration: 25m, vault: {address: "http://127.0.0.1:8081/vault", mount: other, role: apply}}
attachments:
  - {stack: a, integration: v1, write: true}
  - {stack: b, integration: v2, write: true}
  - {stack: c, integration: v3, write: true}
`)
	for _, tc := range []struct {
		mount, role, stack string
		ttl                time.Duration
	}{{"broker", "deploy", "a", 15 * time.Minute}, {"other", "plan", "b", 20 * time.Minute}, {"other", "apply", "c", 25 * time.Minute}} {
		secret, err := loginThroughEmulator(t, vaultLoginCase{set: set, iss: iss, mount: tc.mount, role: tc.role, stack: tc.stack})
		if err != nil {
			t.Errorf("login at %s as %s: %v", tc.mount, tc.role, err)
			continue
		}
		want := []string{"default", tc.role}
		slices.Sort(want)
		if got := secret.Auth.Policies; !slices.Equal(got, want) {
			t.Errorf("%s: policies %v, want %v", tc.role, got, want)
		}
		if got := time.Duration(secret.Auth.LeaseDuration) * time.Second; got != tc.ttl {
			t.Errorf("%s: lease %v, want the integration's duration %v", tc.role, got, tc.ttl)
		}
	}
	if _, err := loginThroughEmulator(t, vaultLoginCase{set: set, iss: iss, mount: "jwt", role: "deploy", stack: "a"}); err == nil {
		t.Error("role deploy is served on mount jwt, which no integration names")
	}
}

// TestVaultRoleAcrossSubtreesIsNoted pins that when integrations of two sibling subtrees
// name one Vault role, the attachment broker trust leaves out of it is noted as not emulated.
// Guards against: dropping the left-out notes for Vault roles, fromconfig_vault.go:vaultTrust
func TestVaultRoleAcrossSubtreesIsNoted(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}, {id: ta, parent: root}, {id: tb, parent: root}]
stacks: [{id: sa, space: ta}, {id: sb, space: tb}]
integrations:
  - {id: va, space: ta, audience: vault, vault: {address: "http://127.0.0.1:8081/vault", role: shared}}
  - {id: vb, space: tb, audience: vault, vault: {address: "http://127.0.0.1:8081/vault", role: shared}}
attachments:
  - {stack: sa, integration: va, read: true}
  - {stack: sb, integration: vb, read: true}
`)
	if !slices.ContainsFunc(set.Notes, func(n string) bool {
		return strings.HasPrefix(n, `Vault role "shared" on mount jwt is not emulated for stack sb (read)`)
	}) {
		t.Errorf("notes %q do not say sb is left out of role shared", set.Notes)
	}
	for _, m := range set.vaultConfig.Mounts {
		for _, r := range m.Roles {
			if slices.Contains(r.BoundClaims["callerId"], "sb") {
				t.Errorf("role %s admits sb: %v", r.Name, r.BoundClaims)
			}
		}
	}
}

// TestEntraAndAssumeRoleTrust pins that an Entra federated credential trusts the
// integration's audience alone, and that an assume-role AWS integration is not emulated (a
// note says so).
// Guards against: an extra audience on federated credentials, fromconfig.go:azureApps
// Guards against: dropping the assume-role check, fromconfig.go:awsRoles
func TestEntraAndAssumeRoleTrust(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: az, space: root, audience: my-aud, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
  - {id: aws-ar, space: root, aws: {mode: assume-role, role_arn: "arn:aws:iam::123456789012:role/ar"}}
attachments:
  - {stack: a, integration: az, write: true}
  - {stack: a, integration: aws-ar, write: true}
`)
	apps := set.azureConfig.Apps
	if len(apps) != 1 || len(apps[0].Federated) == 0 {
		t.Fatalf("apps %+v", apps)
	}
	for _, fc := range apps[0].Federated {
		if !slices.Equal(fc.Audiences, []string{"my-aud"}) {
			t.Errorf("federated credential %s trusts audiences %v, want [my-aud]", fc.Subject, fc.Audiences)
		}
	}
	if len(set.awsConfig.Roles) != 0 {
		t.Errorf("an assume-role integration is emulated: %+v", set.awsConfig.Roles)
	}
	if !slices.ContainsFunc(set.Notes, func(n string) bool { return strings.Contains(n, "integration aws-ar: assume-role is not emulated") }) {
		t.Errorf("notes %q do not say assume-role is not emulated", set.Notes)
	}
}

// TestGCPProviderAdmitsStacksOnly pins that an emulated GCP provider's condition admits
// tokens whose callerType is stack alone: a token of the attached stack's space and name but
// another caller type is refused 400 at STS.
// Guards against: fromconfig.go:emulatedProvider dropping the callerType check from the
// provider's condition
func TestGCPProviderAdmitsStacksOnly(t *testing.T) {
	iss := oidctest.Start(t)
	set := fromYAML(t, `issuer: `+iss.URL+`
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: g, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: s@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: g, read: true}
`)
	srv := httptest.NewServer(set.HTTPHandler())
	t.Cleanup(srv.Close)
	const aud = "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov"
	for _, tc := range []struct {
		callerType string
		want       int
	}{{"stack", http.StatusOK}, {"user", http.StatusBadRequest}} {
		jwt := iss.Sign(t, oidctest.Token{Claims: readRunClaims(aud, tc.callerType)})
		if got := postSTS(t, srv.URL+GCPSTSPath+"/v1/token", stsForm(aud, jwt)); got != tc.want {
			t.Errorf("callerType %s: %d, want %d", tc.callerType, got, tc.want)
		}
	}
}

// TestGCPBindingsStayOnTheirServiceAccount pins that each attachment's principal set is
// bound on its own integration's service account alone: two integrations with two service
// accounts give each account one member, never the other's.
// Guards against: every binding appended to the first service account, fromconfig.go:gcpTrust
func TestGCPBindingsStayOnTheirServiceAccount(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}]
integrations:
  - {id: g1, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: s1@p.iam.gserviceaccount.com}}
  - {id: g2, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: s2@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: g1, read: true}
  - {stack: b, integration: g2, read: true}
`)
	members := map[string][]string{}
	for _, sa := range set.gcpConfig.ServiceAccounts {
		members[sa.Email] = sa.Members
	}
	for email, stack := range map[string]string{"s1@p.iam.gserviceaccount.com": "/a@read", "s2@p.iam.gserviceaccount.com": "/b@read"} {
		if got := members[email]; len(got) != 1 || !strings.HasSuffix(got[0], stack) {
			t.Errorf("%s is bound to %v, want the one member of stack %s", email, got, stack)
		}
	}
}
