package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// awsPolicyDoc is an AWS trust policy as broker trust aws prints it.
type awsPolicyDoc struct {
	Statement []struct {
		Principal map[string]string
		Action    []string
		Condition map[string]map[string]any
	}
}

// trustFromFile runs broker trust with a configuration file holding yaml.
func trustFromFile(t *testing.T, yaml string, args ...string) result {
	t.Helper()
	path := writeFile(t, "broker.yaml", yaml)
	return runCLI(nil, append(append([]string{"trust"}, args...), "--config", path)...)
}

// decodeAWSPolicy decodes r's stdout as one policy, failing the test unless it exits 0.
func decodeAWSPolicy(t *testing.T, r result) awsPolicyDoc {
	t.Helper()
	var doc awsPolicyDoc
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &doc) != nil || len(doc.Statement) == 0 {
		t.Fatalf("exit %d, stderr %q, stdout %q; want 0 and a policy", r.code, r.stderr, r.stdout)
	}
	return doc
}

const awsTrustBase = `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: s1, space: root}, {id: s2, space: root}]
integrations:
  - {id: tagged, space: root, audience: my-aud,
     aws: {role_arn: "arn:aws:iam::123456789012:role/tagged", session_tags: true}}
  - {id: plain, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/plain"}}
attachments:
  - {stack: s1, integration: tagged, write: true}
  - {stack: s2, integration: plain, write: true}
`

// TestTrustAWSWebIdentityStatement: a web-identity statement names the OIDC provider in
// the role's own account, checks the integration's own audience (the default one when it sets
// none), and adds sts:TagSession exactly when the integration passes session tags.
// Guards against: render.go awsStatement if a.SessionTags negated
// Guards against: render.go Federated principal built from another ARN field than the account
// Guards against: render.go aud condition pinned to sts.amazonaws.com instead of TokenAudience()
func TestTrustAWSWebIdentityStatement(t *testing.T) {
	cases := []struct {
		stack, aud, actions string
	}{
		{"s1", "my-aud", "[sts:AssumeRoleWithWebIdentity sts:TagSession]"},
		{"s2", "sts.amazonaws.com", "[sts:AssumeRoleWithWebIdentity]"},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			r := trustFromFile(t, awsTrustBase, "aws", "--stack", tc.stack, "--scope", "write")
			doc := decodeAWSPolicy(t, r)
			st := doc.Statement[0]
			const fed = "arn:aws:iam::123456789012:oidc-provider/broker.example.com"
			if st.Principal["Federated"] != fed {
				t.Errorf("Federated %q, want %q", st.Principal["Federated"], fed)
			}
			if got := fmt.Sprint(st.Action); got != tc.actions {
				t.Errorf("Action %s, want %s", got, tc.actions)
			}
			if got := st.Condition["StringEquals"]["broker.example.com:aud"]; got != tc.aud {
				t.Errorf("aud condition %v, want %q", got, tc.aud)
			}
		})
	}
}

// TestTrustAWSRunIDTemplateUsesStringLike: a space whose subject template holds {runId}
// is printed with the run id as "*" under StringLike (StringEquals would match no token).
// Guards against: render.go awsStatement op = "StringLike" -> "StringEquals"
func TestTrustAWSRunIDTemplateUsesStringLike(t *testing.T) {
	yaml := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"}]
stacks: [{id: s1, space: root}]
integrations:
  - {id: a, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/a"}}
attachments:
  - {stack: s1, integration: a, read: true}
`
	doc := decodeAWSPolicy(t, trustFromFile(t, yaml, "aws", "--stack", "s1", "--scope", "read"))
	cond := doc.Statement[0].Condition
	want := "[space:root:stack:s1:run:*:scope:read]"
	if got := fmt.Sprint(cond["StringLike"]["broker.example.com:sub"]); got != want {
		t.Errorf("StringLike sub %s, want %s (conditions %v)", got, want, cond)
	}
	if _, ok := cond["StringEquals"]["broker.example.com:sub"]; ok {
		t.Errorf("a wildcard subject under StringEquals: %v", cond)
	}
}

// TestTrustReadSubjectsLeaveOutFinished: with a template naming {runPhase}, the read
// trust lists the read phases' subjects and none of a FINISHED run, which mints no token.
// Guards against: subjects.go subjectsFor p == runs.Finished skip dropped
func TestTrustReadSubjectsLeaveOutFinished(t *testing.T) {
	yaml := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root, subject_template: "stack:{callerId}:phase:{runPhase}:scope:{scope}"}]
stacks: [{id: s1, space: root}]
integrations:
  - {id: a, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/a"}}
attachments:
  - {stack: s1, integration: a, read: true}
`
	doc := decodeAWSPolicy(t, trustFromFile(t, yaml, "aws", "--stack", "s1", "--scope", "read"))
	got := fmt.Sprint(doc.Statement[0].Condition["StringEquals"]["broker.example.com:sub"])
	want := "[stack:s1:phase:INITIALIZING:scope:read stack:s1:phase:PLANNING:scope:read]"
	if got != want {
		t.Errorf("read subjects %s, want %s", got, want)
	}
}

// quotaCase is a web-identity role shared, for write, by stacks stack-01 to stack-<stacks>,
// whose tokens carry audience aud.
type quotaCase struct {
	stacks int
	aud    string
}

func (q quotaCase) yaml() string {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nlisten: 127.0.0.1:0\n")
	b.WriteString("spaces: [{id: root}]\nstacks:\n")
	for i := 1; i <= q.stacks; i++ {
		fmt.Fprintf(&b, "  - {id: stack-%02d, space: root, labels: [platform]}\n", i)
	}
	fmt.Fprintf(&b, "integrations:\n  - {id: w, space: root, audience: %q,\n", q.aud)
	b.WriteString("     aws: {role_arn: \"arn:aws:iam::123456789012:role/w\"},\n")
	b.WriteString("     autoattach: [{label: platform, write: true}]}\n")
	return b.String()
}

// iamChars is the length of printed JSON as IAM counts it: without white space.
func iamChars(s string) int {
	return utf8.RuneCountInString(strings.Join(strings.Fields(s), ""))
}

// TestTrustAWSQuotaNoteBoundary: a policy of exactly 2,048 characters (IAM's default
// quota) is printed without the quota note; one of 2,049 gets it.
// Guards against: trust.go policy.Chars() > AWSPolicyQuotaChars -> >=
func TestTrustAWSQuotaNoteBoundary(t *testing.T) {
	q := quotaCase{aud: "x"}
	pad := -1
	for q.stacks = 1; q.stacks <= 20 && (pad < 0 || pad > 200); q.stacks++ {
		r := trustFromFile(t, q.yaml(), "aws", "--stack", "stack-01", "--scope", "write")
		decodeAWSPolicy(t, r)
		pad = 2048 - iamChars(r.stdout)
	}
	q.stacks--
	if pad < 0 || pad > 200 {
		t.Fatalf("no number of stacks brings the policy within 200 characters of 2048")
	}
	for _, extra := range []int{0, 1} {
		q.aud = "x" + strings.Repeat("a", pad+extra)
		r := trustFromFile(t, q.yaml(), "aws", "--stack", "stack-01", "--scope", "write")
		decodeAWSPolicy(t, r)
		n := iamChars(r.stdout)
		if n != 2048+extra {
			t.Fatalf("policy of %d characters, want %d", n, 2048+extra)
		}
		if noted := strings.Contains(r.stderr, "IAM takes 2048"); noted != (extra == 1) {
			t.Errorf("policy of %d characters: quota note %v, stderr %q", n, noted, r.stderr)
		}
	}
}

// TestTrustAWSRefusesPolicyOverIAMMaximum: stacks sharing one role whose trust policy
// would exceed 4,096 characters (IAM's most, even with a raised quota) are refused: exit 1,
// nothing on stdout, a line naming the limit.
// Guards against: shared.go awsPolicy n > AWSPolicyMaxChars check dropped
func TestTrustAWSRefusesPolicyOverIAMMaximum(t *testing.T) {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nlisten: 127.0.0.1:0\n")
	b.WriteString("spaces: [{id: root}]\nstacks:\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  - {id: stack-%02d, space: root, labels: [platform]}\n", i)
	}
	b.WriteString("integrations:\n  - {id: w, space: root, " +
		"aws: {role_arn: \"arn:aws:iam::123456789012:role/w\"}, " +
		"autoattach: [{label: platform, write: true}]}\n")
	r := trustFromFile(t, b.String(), "aws", "--stack", "stack-01", "--scope", "write")
	if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "4,096") {
		t.Errorf("exit %d, stdout %d bytes, stderr %q; want 1, nothing printed, the limit named",
			r.code, len(r.stdout), r.stderr)
	}
}

// TestTrustAWSAdmitsIntegrationTheStackCouldAttach: a role shared by the integration
// printed (space c, which inherits from p) and an integration of p attached to a stack of p is
// printed for both stacks, without a "left out" note: whoever administers p administers c's
// stack too, so printing p's stack into the role gives nobody more than they have.
// Guards against: shared.go mayShare third clause (t's stack could attach in) dropped
func TestTrustAWSAdmitsIntegrationTheStackCouldAttach(t *testing.T) {
	yaml := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}, {id: p, parent: root}, {id: c, parent: p, inherit: true}]
stacks: [{id: sa, space: c}, {id: sb, space: p}]
integrations:
  - {id: ic, space: c, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
  - {id: ip, space: p, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
attachments:
  - {stack: sa, integration: ic, write: true}
  - {stack: sb, integration: ip, write: true}
`
	r := trustFromFile(t, yaml, "aws", "--stack", "sa", "--scope", "write")
	decodeAWSPolicy(t, r)
	if !strings.Contains(r.stdout, "stack:sb:") || strings.Contains(r.stderr, "left out") {
		t.Errorf("stdout %q, stderr %q; want sb admitted and no note", r.stdout, r.stderr)
	}
}

// vaultTrustConfig is a Vault integration (with extra fields) attached to s1 for read and to s2
// for the scope s2scope ("" for no attachment of s2), under issuer.
type vaultTrustConfig struct {
	issuer, extra, s2scope string
}

func (c vaultTrustConfig) yaml() string {
	y := `issuer: "` + c.issuer + `"
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: s1, space: root}, {id: s2, space: root}]
integrations:
  - {id: v, space: root, audience: vault-ci,
     vault: {address: "https://vault.example.com", role: deployer}` +
		c.extra + `}
attachments:
  - {stack: s1, integration: v, read: true}
`
	if c.s2scope != "" {
		y += "  - {stack: s2, integration: v, " + c.s2scope + ": true}\n"
	}
	return y
}

// TestTrustVaultRoleLifetimes: the printed Vault role takes the integration's audience,
// grants the policy named after the role, bounds its tokens to the integration's duration in
// whole seconds (1h when it sets none), never renewable past it, and sets the leeways that
// stand in for missing claims to -1 (none) rather than Vault's defaults.
// Guards against: vault_role.go vaultSeconds d <= 0 -> d < 0 (a "0s" TTL: the mount's default
// lifetime)
// Guards against: vault_role.go ExpirationLeeway -1 -> 0 (Vault's 150 seconds)
// Guards against: vault_role.go BoundAudiences pinned to a constant instead of TokenAudience()
func TestTrustVaultRoleLifetimes(t *testing.T) {
	cases := []struct {
		name, extra, ttl string
	}{
		{"no duration", "", "1h"},
		{"90 minutes", ", duration: 90m", "5400s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := vaultTrustConfig{issuer: "https://broker.example.com", extra: tc.extra}
			r := trustFromFile(t, cfg.yaml(), "vault", "--stack", "s1", "--scope", "read")
			var role map[string]any
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &role) != nil {
				t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
			}
			got := fmt.Sprint(role["bound_audiences"], role["token_policies"])
			if got != "[vault-ci] [deployer]" {
				t.Errorf("bound_audiences and token_policies %s, want [vault-ci] [deployer]", got)
			}
			want := map[string]any{
				"token_ttl": tc.ttl, "token_max_ttl": tc.ttl, "token_explicit_max_ttl": tc.ttl,
				"token_period": "0s", "expiration_leeway": -1.0, "not_before_leeway": -1.0,
				"clock_skew_leeway": 60.0, "bound_claims_type": "string", "user_claim": "sub",
			}
			for k, v := range want {
				if role[k] != v {
					t.Errorf("%s = %v, want %v", k, role[k], v)
				}
			}
		})
	}
}

// TestTrustVaultRefusesRoleTooBroad: one Vault role attached to s1 for read and to s2 for
// write cannot be printed (its bound claims would accept s1's write tokens and s2's read
// ones): exit 1, nothing on stdout. Attached to s2 for read too, it prints.
// Guards against: vault_role.go mergeVaultRoles accepted != len(combos) check dropped
func TestTrustVaultRefusesRoleTooBroad(t *testing.T) {
	cfg := vaultTrustConfig{issuer: "https://broker.example.com", s2scope: "write"}
	r := trustFromFile(t, cfg.yaml(), "vault", "--stack", "s1", "--scope", "read")
	if r.code != exitError || r.stdout != "" ||
		!strings.Contains(r.stderr, "bound_claims would accept") {
		t.Errorf("read and write of two stacks: exit %d, stdout %q, stderr %q; want 1",
			r.code, r.stdout, r.stderr)
	}
	cfg.s2scope = "read"
	r = trustFromFile(t, cfg.yaml(), "vault", "--stack", "s1", "--scope", "read")
	if r.code != 0 || !strings.Contains(r.stdout, `"s2"`) {
		t.Errorf("two stacks, read only: exit %d, stdout %q, stderr %q; want 0",
			r.code, r.stdout, r.stderr)
	}
}

// TestTrustVaultSharedRoleListsStacksInOrder: a Vault role shared by two stacks lists
// them ordered by stack id whatever order the file attaches them in, so the role printed
// for either stack is the same text.
// Guards against: shared.go sharing's sort of the targets dropped
func TestTrustVaultSharedRoleListsStacksInOrder(t *testing.T) {
	yaml := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: app, space: root}, {id: web, space: root}]
integrations:
  - {id: v, space: root, audience: vault, vault: {address: "https://v.example.com", role: ops}}
attachments:
  - {stack: web, integration: v, write: true}
  - {stack: app, integration: v, write: true}
`
	for _, stack := range []string{"app", "web"} {
		r := trustFromFile(t, yaml, "vault", "--stack", stack, "--scope", "write")
		var role struct {
			BoundClaims map[string]any `json:"bound_claims"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &role) != nil {
			t.Fatalf("%s: exit %d, stderr %q", stack, r.code, r.stderr)
		}
		if got := fmt.Sprint(role.BoundClaims["callerId"]); got != "[app web]" {
			t.Errorf("%s: callerId %s, want [app web]", stack, got)
		}
	}
}

const gcpTrustConfig = `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}]
stacks: [{id: s1, space: root}, {id: s2, space: root}]
integrations:
  - {id: g, space: root, gcp: {service_account: sa@p.iam.gserviceaccount.com,
     workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov-x}}
  - {id: h, space: root, audience: custom-aud, gcp: {service_account: sb@p.iam.gserviceaccount.com,
     workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov-y}}
attachments:
  - {stack: s1, integration: g, read: true, write: true}
  - {stack: s2, integration: h, read: true}
`

// TestTrustGCPBindingAndAudiences: the service-account binding printed for a stack and
// scope names that scope (a read binding never grants write tokens), and the provider lists
// allowed audiences exactly when an integration sets its own (else Google's default applies).
// Guards against: render.go gcp Member built with a fixed scope instead of t.req.Scope
// Guards against: shared.go gcp custom audience never noticed (allowedAudiences left out)
func TestTrustGCPBindingAndAudiences(t *testing.T) {
	const pool = "principalSet://iam.googleapis.com/" +
		"projects/1/locations/global/workloadIdentityPools/pool"
	cases := []struct {
		stack, scope, member, audiences string
	}{
		{"s1", "read", pool + "/attribute.space_stack_scope/prov-x/root/s1@read", "[]"},
		{"s1", "write", pool + "/attribute.space_stack_scope/prov-x/root/s1@write", "[]"},
		{"s2", "read", pool + "/attribute.space_stack_scope/prov-y/root/s2@read", "[custom-aud]"},
	}
	for _, tc := range cases {
		t.Run(tc.stack+" "+tc.scope, func(t *testing.T) {
			r := trustFromFile(t, gcpTrustConfig, "gcp", "--stack", tc.stack, "--scope", tc.scope)
			var doc struct {
				Provider struct{ AllowedAudiences []string } `json:"workloadIdentityPoolProvider"`
				Binding  struct{ Member string }             `json:"serviceAccountIamBinding"`
			}
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &doc) != nil {
				t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
			}
			if doc.Binding.Member != tc.member {
				t.Errorf("member %q, want %q", doc.Binding.Member, tc.member)
			}
			if got := fmt.Sprint(doc.Provider.AllowedAudiences); got != tc.audiences {
				t.Errorf("allowedAudiences %s, want %s", got, tc.audiences)
			}
		})
	}
}

// TestTrustAzureRefusesRunIDTemplate: Entra matches a federated credential's subject
// exactly, so a space whose template holds {runId} gets no credential with a "*" in it: exit 1,
// nothing on stdout, a line naming {runId}.
// Guards against: render.go azure t.wildcard() refusal dropped
func TestTrustAzureRefusesRunIDTemplate(t *testing.T) {
	yaml := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"}]
stacks: [{id: s1, space: root}]
integrations:
  - {id: az, space: root, azure: {tenant_id: 00000000-0000-0000-0000-000000000001,
     client_id: 00000000-0000-0000-0000-000000000002}}
attachments:
  - {stack: s1, integration: az, read: true}
`
	r := trustFromFile(t, yaml, "azure", "--stack", "s1", "--scope", "read")
	if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "{runId}") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing printed, {runId} named",
			r.code, r.stdout, r.stderr)
	}
}

// TestTrustGCPLongSubjectMapsRunID: Google refuses a google.subject over 127 bytes, so a
// provider serving a stack whose sub would be longer maps google.subject from the run id; with
// short ids it maps the sub.
// Guards against: shared.go gcp mintedLen(sub) > gcpMaxSubject switch to assertion.runId dropped
func TestTrustGCPLongSubjectMapsRunID(t *testing.T) {
	long := strings.Repeat("a", 50)
	cases := []struct{ space, stack, subject string }{
		{"short", "s1", "assertion.sub"},
		{"sp-" + long, "st-" + long, "assertion.runId"},
	}
	for _, tc := range cases {
		t.Run(tc.subject, func(t *testing.T) {
			yaml := `issuer: https://broker.example.com
listen: 127.0.0.1:0
spaces: [{id: root}, {id: ` + tc.space + `, parent: root}]
stacks: [{id: ` + tc.stack + `, space: ` + tc.space + `}]
integrations:
  - {id: g, space: ` + tc.space + `, gcp: {service_account: sa@p.iam.gserviceaccount.com,
     workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov-x}}
attachments:
  - {stack: ` + tc.stack + `, integration: g, write: true}
`
			r := trustFromFile(t, yaml, "gcp", "--stack", tc.stack, "--scope", "write")
			type mapping struct{ AttributeMapping map[string]string }
			var doc struct {
				Provider mapping `json:"workloadIdentityPoolProvider"`
			}
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &doc) != nil {
				t.Fatalf("exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
			}
			if got := doc.Provider.AttributeMapping["google.subject"]; got != tc.subject {
				t.Errorf("google.subject maps %q, want %q", got, tc.subject)
			}
		})
	}
}

// TestTrustHelpWordFirst: "help" where the provider goes asks for broker trust's help,
// also with flags after it: exit 0 and the usage, never "unknown provider help".
// Guards against: trust.go runTrust args[0] == "help" mapping to -h dropped
func TestTrustHelpWordFirst(t *testing.T) {
	r := runCLI(map[string]string{}, "trust", "help", "--stack", "s1", "--scope", "read")
	out := r.stdout + r.stderr
	if r.code != exitOK || !strings.Contains(out, "usage:") ||
		!strings.Contains(out, "broker trust") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and trust's usage",
			r.code, r.stdout, r.stderr)
	}
}
