package emulator

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/contract"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

func TestFromConfigTrustsExactlyTheAttachments(t *testing.T) {
	cfg, err := config.Parse("broker.example.yaml", contract.Example(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Attachments = append(cfg.Attachments, config.Attachment{Stack: "vpc-prod", Integration: "azure-prod", Write: true})
	set, err := FromConfig(cfg, "https://127.0.0.1:8082")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string][]string{}
	for _, r := range set.awsConfig.Roles {
		roles[r.ARN] = append(r.Trust.Subjects, r.Trust.Issuer, strings.Join(r.Trust.Audiences, ","))
		if r.Trust.TagSession {
			t.Errorf("role %s allows sts:TagSession, which its printed trust policy does not (no session_tags)", r.ARN)
		}
	}
	read := roles["arn:aws:iam::123456789012:role/broker-read"]
	write := roles["arn:aws:iam::123456789012:role/broker-write"]
	if !slices.Contains(read, "space:prod:stack:vpc-prod:run_type:PROPOSED:scope:read") || slices.Contains(read, "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write") {
		t.Errorf("read role trusts %v", read)
	}
	if !slices.Contains(write, "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write") || slices.Contains(write, "space:prod:stack:vpc-prod:run_type:PROPOSED:scope:write") {
		t.Errorf("write role trusts %v", write)
	}
	if !slices.Contains(write, "https://broker.example.com") || !slices.Contains(write, "sts.amazonaws.com") {
		t.Errorf("write role issuer/audience %v", write)
	}
	var members []string
	for _, sa := range set.gcpConfig.ServiceAccounts {
		members = append(members, sa.Members...)
	}
	const pool = "principalSet://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/broker/"
	if !slices.Equal(members, []string{pool + "attribute.space_stack_scope/broker/prod/vpc-prod@read", pool + "attribute.space_stack_scope/broker/prod/vpc-prod@write"}) {
		t.Errorf("gcp members %v", members)
	}
	if apps := set.azureConfig.Apps; len(apps) != 1 || len(apps[0].Federated) != 3 || apps[0].Federated[0].Issuer != "https://broker.example.com" {
		t.Errorf("azure apps %+v: want one app trusting the 3 write subjects", apps)
	}
	vault := set.vaultConfig.Mounts
	if len(vault) != 1 || vault[0].Path != "jwt" || vault[0].BoundIssuer != "https://broker.example.com" || len(vault[0].Roles) != 1 {
		t.Fatalf("vault mounts %+v: want jwt trusting broker.example.com with one role", vault)
	}
	if r := vault[0].Roles[0]; r.Name != "vpc-prod" || !slices.Equal(r.BoundAudiences, []string{"vault"}) ||
		!slices.Equal(r.BoundClaims["callerId"], []string{"vpc-prod"}) || !slices.Equal(r.BoundClaims["scope"], []string{"read", "write"}) {
		t.Errorf("vault role %+v", r)
	}
}

// fromYAML is the emulators' trust for the configuration file text yaml.
func fromYAML(t *testing.T, yaml string) *Set {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	set, err := FromConfig(cfg, "https://127.0.0.1:8082")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// roleSubjects maps each emulated AWS role to the subjects it trusts, and its audiences.
func roleSubjects(set *Set) map[string][]string {
	out := map[string][]string{}
	for _, r := range set.awsConfig.Roles {
		out[r.ARN] = append(slices.Clone(r.Trust.Subjects), "aud="+strings.Join(r.Trust.Audiences, ","))
	}
	return out
}

// TestFromConfigTrustsAutoattach: an autoattach rule's attachments are trusted like direct
// ones, and only for the stacks the rule matches.
func TestFromConfigTrustsAutoattach(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: vpc, space: root, labels: [net]}, {id: db, space: root, labels: [data]}]
integrations:
  - {id: aws-auto, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/auto"}, autoattach: [{label: net, read: true}]}
  - {id: aws-db, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/db"}}
attachments:
  - {stack: db, integration: aws-db, read: true}
`)
	roles := roleSubjects(set)
	auto, db := roles["arn:aws:iam::123456789012:role/auto"], roles["arn:aws:iam::123456789012:role/db"]
	if !slices.Contains(auto, "space:root:stack:vpc:run_type:TRACKED:scope:read") {
		t.Errorf("the autoattached role does not trust vpc's read runs: %v", auto)
	}
	if slices.Contains(auto, "space:root:stack:db:run_type:TRACKED:scope:read") {
		t.Errorf("the autoattached role trusts db, which its rule does not match: %v", auto)
	}
	if !slices.Contains(db, "space:root:stack:db:run_type:TRACKED:scope:read") {
		t.Errorf("db's role: %v", db)
	}
}

// TestFromConfigSharedRoleAudiences: a role shared by integrations of two audiences needs a
// statement per audience; the emulator, with one audience per role, leaves it out rather than
// trusting a's subjects with c's audience.
func TestFromConfigSharedRoleAudiences(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: c, space: root}]
integrations:
  - {id: aws-a, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
  - {id: aws-c, space: root, audience: ops-aws, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
  - {id: aws-solo, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/solo"}}
attachments:
  - {stack: a, integration: aws-a, read: true}
  - {stack: c, integration: aws-c, read: true}
  - {stack: a, integration: aws-solo, write: true}
`)
	roles := roleSubjects(set)
	if shared, ok := roles["arn:aws:iam::123456789012:role/shared"]; ok {
		t.Errorf("role shared is emulated with one trust for two audiences: %v", shared)
	}
	if !slices.ContainsFunc(set.Notes, func(n string) bool { return strings.Contains(n, "role/shared is not emulated") }) {
		t.Errorf("notes %q do not say why role shared is left out", set.Notes)
	}
	if solo := roles["arn:aws:iam::123456789012:role/solo"]; !slices.Contains(solo, "space:root:stack:a:run_type:TRACKED:scope:write") || !slices.Contains(solo, "aud=sts.amazonaws.com") {
		t.Errorf("role solo: %v", solo)
	}
}

// TestFromConfigVaultRolesOfTwoServers: the emulator is one Vault server, so of two roles
// with one mount and name on two servers it serves the first alone, and says so.
func TestFromConfigVaultRolesOfTwoServers(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}]
integrations:
  - {id: vault-a, space: root, audience: vault, vault: {address: "http://127.0.0.1:8081/vault", role: terraform}}
  - {id: vault-b, space: root, audience: vault, vault: {address: "https://vault-b.example.com", role: terraform}}
attachments:
  - {stack: a, integration: vault-a, write: true}
  - {stack: b, integration: vault-b, write: true}
`)
	mounts := set.vaultConfig.Mounts
	if len(mounts) != 1 || len(mounts[0].Roles) != 1 {
		t.Fatalf("mounts %+v: want jwt with one role", mounts)
	}
	if got := mounts[0].Roles[0].BoundClaims["callerId"]; !slices.Equal(got, []string{"a"}) {
		t.Errorf("role terraform admits callerId %v, want [a] (b is attached to another server's role)", got)
	}
	if !slices.ContainsFunc(set.Notes, func(n string) bool { return strings.Contains(n, "integration vault-b") }) {
		t.Errorf("notes %q do not say why vault-b's role is left out", set.Notes)
	}
}

// TestFromConfigGCPProviderAdmitsItsSpaces: an emulated provider admits, as the one `broker
// trust gcp` prints, only tokens of stacks in the spaces of the attachments exchanging through
// it; without that, a token of space team exchanged at ops's provider prov2 got a federated token
// that team's service account accepts.
func TestFromConfigGCPProviderAdmitsItsSpaces(t *testing.T) {
	iss := oidctest.Start(t)
	set := fromYAML(t, `issuer: `+iss.URL+`
spaces: [{id: root}, {id: team, parent: root}, {id: ops, parent: root}]
stacks: [{id: a, space: team}, {id: c, space: ops}]
integrations:
  - {id: g1, space: team, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov1, service_account: s1@p.iam.gserviceaccount.com}}
  - {id: g2, space: ops, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov2, service_account: s2@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: g1, read: true}
  - {stack: c, integration: g2, read: true}
`)
	srv := httptest.NewServer(set.HTTPHandler())
	defer srv.Close()
	exchange := func(provider, space, stack string) int {
		t.Helper()
		aud := "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/" + provider
		jwt := iss.Sign(t, oidctest.Token{Claims: map[string]any{
			"sub": "space:" + space + ":stack:" + stack + ":run_type:TRACKED:scope:read", "aud": aud,
			"spaceId": space, "callerType": "stack", "callerId": stack, "scope": "read",
		}})
		return postSTS(t, srv.URL+GCPSTSPath+"/v1/token", stsForm(aud, jwt))
	}
	for _, tc := range []struct {
		provider, space, stack string
		want                   int
	}{
		{"prov1", "team", "a", 200},
		{"prov2", "ops", "c", 200},
		{"prov2", "team", "a", 400},
		{"prov1", "ops", "c", 400},
	} {
		if got := exchange(tc.provider, tc.space, tc.stack); got != tc.want {
			t.Errorf("stack %s (space %s) at provider %s: %d, want %d", tc.stack, tc.space, tc.provider, got, tc.want)
		}
	}
}

// TestFromConfigAzureApplicationHoldsTwenty: an Entra application whose attachments need more
// than Entra's 20 federated credentials (three stacks at read and write: 21) is not emulated,
// and a note says so: no exchange through it succeeds here that the real cloud cannot be set
// up to allow.
func TestFromConfigAzureApplicationHoldsTwenty(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true}]
stacks:
  - {id: s1, space: prod, labels: [platform]}
  - {id: s2, space: prod, labels: [platform]}
  - {id: s3, space: prod, labels: [platform]}
integrations:
  - id: az
    space: prod
    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}
    autoattach: [{label: platform, read: true, write: true}]
`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := FromConfig(cfg, "https://127.0.0.1:8082")
	if err != nil {
		t.Fatal(err)
	}
	if apps := set.azureConfig.Apps; len(apps) != 0 {
		t.Errorf("emulated Entra applications %+v, want none", apps)
	}
	if !slices.ContainsFunc(set.Notes, func(n string) bool { return strings.Contains(n, "need 21 federated credentials") }) {
		t.Errorf("notes %q name no application over the limit", set.Notes)
	}
}
