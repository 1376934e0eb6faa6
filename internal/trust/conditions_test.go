package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// parseConfig parses a test configuration, failing the test on any validation error.
func parseConfig(t *testing.T, src string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// oneGCPStack is one stack a of space team attached for read to a GCP integration of root.
func oneGCPStack(t *testing.T) *config.Config {
	return parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root}, {id: team, parent: root, inherit: true}]
stacks: [{id: a, space: team}]
integrations:
  - {id: g, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: sa@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: g, read: true}
`)
}

// TestGCPProviderMappingAndCondition: a provider serving one space prints the condition
// with callerType as well as the space, and exactly the attribute mapping the binding relies on
// (space_stack_scope names the provider, so no token of another provider of the pool matches
// a binding, and the scope, so a read binding never matches a write token).
func TestGCPProviderMappingAndCondition(t *testing.T) {
	doc, err := Render(oneGCPStack(t), Request{Provider: "gcp", Stack: "a", Scope: runs.Read})
	if err != nil {
		t.Fatal(err)
	}
	p := doc.(GCPTrust).Provider
	if want := `assertion.callerType == "stack" && assertion.spaceId == "team"`; p.AttributeCondition != want {
		t.Errorf("condition %q, want %q", p.AttributeCondition, want)
	}
	want := map[string]string{
		"google.subject":              "assertion.sub",
		"attribute.space":             "assertion.spaceId",
		"attribute.stack":             "assertion.callerId",
		"attribute.scope":             "assertion.scope",
		"attribute.space_stack_scope": `"prov" + "/" + assertion.spaceId + "/" + assertion.callerId + "@" + assertion.scope`,
	}
	if !maps.Equal(p.AttributeMapping, want) {
		t.Errorf("attribute mapping %v, want %v", p.AttributeMapping, want)
	}
}

// TestGoogleSubjectBoundary: the bound on google.subject counts the run id a minted sub
// carries, not the "*" the trust subjects hold in its place: a sub of exactly 127 bytes once
// minted is mapped to google.subject; one of 128 or more is not, the run id stands in.
func TestGoogleSubjectBoundary(t *testing.T) {
	space := strings.Repeat("s", 30)
	for _, tc := range []struct {
		minted int
		want   string
	}{{127, "assertion.sub"}, {128, "assertion.runId"}, {146, "assertion.runId"}} {
		// "space:" + space + ":stack:" + stack + ":run:" + <26> + ":scope:write" is 56 + ids.
		stack := strings.Repeat("k", tc.minted-56-len(space))
		cfg := parseConfig(t, fmt.Sprintf(`issuer: https://broker.example.com
spaces:
  - {id: root}
  - {id: %s, parent: root, inherit: true, subject_template: "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"}
stacks: [{id: %s, space: %s}]
integrations:
  - {id: gcp, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: sa@p.iam.gserviceaccount.com}}
attachments:
  - {stack: %s, integration: gcp, write: true}
`, space, stack, space, stack))
		subs, err := Subjects(cfg, stack, runs.Write)
		if err != nil || len(subs) != 1 || mintedLen(subs[0]) != tc.minted || len(subs[0])+runIDLen-1 != tc.minted {
			t.Fatalf("setup: subjects %v (%v), want one of %d bytes minted", subs, err, tc.minted)
		}
		doc, err := Render(cfg, Request{Provider: "gcp", Stack: stack, Scope: runs.Write})
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.(GCPTrust).Provider.AttributeMapping["google.subject"]; got != tc.want {
			t.Errorf("minted sub of %d bytes: google.subject = %q, want %q", tc.minted, got, tc.want)
		}
	}
}

// deepAzureConfig nests 8 spaces of 63 characters under root; the leaf's template names the
// whole path, and its stack (of stackLen characters) is attached for write to an Azure app.
// Its one write subject is 540 + stackLen characters.
func deepAzureConfig(t *testing.T, stackLen int, audience string) (*config.Config, string) {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nspaces:\n  - {id: root}\n")
	parent := "root"
	for i := 0; i < 8; i++ {
		id := fmt.Sprintf("%c%s", 'a'+i, strings.Repeat("x", 62))
		tmpl := ""
		if i == 7 {
			tmpl = `, subject_template: "deep:{spacePath}:stack:{callerId}:scope:{scope}"`
		}
		fmt.Fprintf(&b, "  - {id: %s, parent: %s, inherit: true%s}\n", id, parent, tmpl)
		parent = id
	}
	stack := "s" + strings.Repeat("t", stackLen-1)
	aud := ""
	if audience != "" {
		aud = ", audience: " + audience
	}
	fmt.Fprintf(&b, `stacks: [{id: %s, space: %s}]
integrations:
  - {id: az, space: root%s, azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
attachments:
  - {stack: %s, integration: az, write: true}
`, stack, parent, aud, stack)
	return parseConfig(t, b.String()), stack
}

// TestAzureSubjectBoundary: Entra takes a federated credential subject of 600 characters;
// one of 601 is refused with an error naming the stack, not printed.
func TestAzureSubjectBoundary(t *testing.T) {
	for _, tc := range []struct {
		stackLen, subLen int
		refused          bool
	}{{60, 600, false}, {61, 601, true}} {
		cfg, stack := deepAzureConfig(t, tc.stackLen, "")
		subs, err := Subjects(cfg, stack, runs.Write)
		if err != nil || len(subs) != 1 || len(subs[0]) != tc.subLen {
			t.Fatalf("setup: subjects %v (%v), want one of %d characters", subs, err, tc.subLen)
		}
		_, err = Render(cfg, Request{Provider: "azure", Stack: stack, Scope: runs.Write})
		if tc.refused != errors.Is(err, ErrSubjectTooLong) || (!tc.refused && err != nil) ||
			(tc.refused && !strings.Contains(err.Error(), "stack "+stack)) {
			t.Errorf("subject of %d characters: err = %v, want refused %v", tc.subLen, err, tc.refused)
		}
	}
}

// TestAzureCredentialNameAndAudience: each federated credential is named after its stack
// and scope (read and write credentials of one stack on one app never share a name), and
// carries the integration's own audience when it sets one.
func TestAzureCredentialNameAndAudience(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:scope:{scope}"}]
stacks: [{id: a, space: root}]
integrations:
  - {id: az, space: root, audience: "api://custom-exchange", azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}}
attachments:
  - {stack: a, integration: az, read: true, write: true}
`)
	for _, scope := range []runs.Scope{runs.Read, runs.Write} {
		doc, err := Render(cfg, Request{Provider: "azure", Stack: "a", Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		creds := doc.([]azureCredential)
		if len(creds) != 1 || creds[0].Name != "broker-a-"+string(scope) || !slices.Equal(creds[0].Audiences, []string{"api://custom-exchange"}) ||
			creds[0].Subject != "space:root:stack:a:scope:"+string(scope) {
			t.Errorf("%s: credentials %+v", scope, creds)
		}
	}
}

// TestWebIdentityReadsStringLike: a policy whose subjects hold the run id wildcard (a
// StringLike condition) is read back by WebIdentity with those subjects, as the emulator does.
func TestWebIdentityReadsStringLike(t *testing.T) {
	cfg := exampleConfig(t)
	for i := range cfg.Spaces {
		if cfg.Spaces[i].ID == "prod" {
			cfg.Spaces[i].SubjectTemplate = "space:{spaceId}:stack:{callerId}:run:{runId}:scope:{scope}"
		}
	}
	doc, err := Render(cfg, Request{Provider: "aws", Stack: "vpc-prod", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	policy := doc.(AWSPolicy)
	wi, ok := policy.Statement[0].WebIdentity(cfg.Issuer)
	if !ok || wi.Audience != "sts.amazonaws.com" || !slices.Equal(wi.Subjects, []string{"space:prod:stack:vpc-prod:run:*:scope:write"}) {
		t.Errorf("WebIdentity = %+v, %v", wi, ok)
	}
}

// TestSubjectsNeverFinished: a finished run gets no token, so no trust subject names the
// FINISHED phase.
func TestSubjectsNeverFinished(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root, subject_template: "space:{spaceId}:stack:{callerId}:phase:{runPhase}:scope:{scope}"}]
stacks: [{id: a, space: root}]
`)
	for _, scope := range []runs.Scope{runs.Read, runs.Write} {
		subs, err := Subjects(cfg, "a", scope)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if strings.Contains(s, string(runs.Finished)) {
				t.Errorf("%s subjects %v name the FINISHED phase", scope, subs)
			}
		}
	}
}

// TestUnrenderableSharerFailsTheWhole: a stack sharing the role whose subjects could match
// another stack's sub fails the policy for every stack sharing it; it is not silently left out
// (the pasted policy would lock it out).
func TestUnrenderableSharerFailsTheWhole(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces:
  - {id: root}
  - {id: p, parent: root, inherit: true}
  - {id: q, parent: root, inherit: true}
  - {id: r, parent: root, inherit: true}
stacks: [{id: net, space: p}, {id: evil, space: q}, {id: a, space: r}]
integrations:
  - {id: aws-w, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
attachments:
  - {stack: net, integration: aws-w, write: true}
  - {stack: a, integration: aws-w, write: true}
`)
	// Templates validation would refuse together: p's "x:net:*:write" matches q's subs of stack
	// evil. Set after parsing, as a catalog that skipped validation could hold them.
	for i := range cfg.Spaces {
		switch cfg.Spaces[i].ID {
		case "p":
			cfg.Spaces[i].SubjectTemplate = "x:{callerId}:{runId}:{scope}"
		case "q":
			cfg.Spaces[i].SubjectTemplate = "x:net:{runId}:{callerId}:{scope}"
		}
	}
	if _, err := Subjects(cfg, "a", runs.Write); err != nil {
		t.Fatalf("setup: a's own subjects: %v", err)
	}
	if _, err := Render(cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Write}); !errors.Is(err, ErrSharedSubject) {
		t.Errorf("Render = %v, want ErrSharedSubject for sharer net", err)
	}
}

// TestSessionTagsKeepTheirOwnStatement: two integrations of one role, one passing session
// tags, get a statement each: sts:TagSession is granted to the tagged one's subjects only.
func TestSessionTagsKeepTheirOwnStatement(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}]
integrations:
  - {id: tagged, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/shared", session_tags: true}}
  - {id: plain, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
attachments:
  - {stack: a, integration: tagged, write: true}
  - {stack: b, integration: plain, write: true}
`)
	doc, err := Render(cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	policy := doc.(AWSPolicy)
	if len(policy.Statement) != 2 {
		t.Fatalf("%d statements, want 2: %+v", len(policy.Statement), policy)
	}
	for _, st := range policy.Statement {
		wi, ok := st.WebIdentity(cfg.Issuer)
		if !ok || len(wi.Subjects) == 0 {
			t.Fatalf("statement with actions %v: no web identity subjects (%v)", st.Action, ok)
		}
		tags := slices.Contains(st.Action, "sts:TagSession")
		for _, sub := range wi.Subjects {
			if tags != strings.Contains(sub, ":stack:a:") {
				t.Errorf("statement with actions %v lists %s", st.Action, sub)
			}
		}
	}
}

// oneSubRole is n stacks of one space whose template gives each write run one sub, "<id>:write",
// sharing one role, the last stack's id lastLen characters long.
func oneSubRole(t *testing.T, n, lastLen int) *config.Config {
	var b strings.Builder
	b.WriteString(`issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true, subject_template: "{callerId}:{scope}"}]
stacks:
`)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  - {id: stack-%03d, space: prod, labels: [platform]}\n", i)
	}
	fmt.Fprintf(&b, "  - {id: z%s, space: prod, labels: [platform]}\n", strings.Repeat("z", lastLen-1))
	b.WriteString(`integrations:
  - id: aws-w
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/platform-write"}
    autoattach: [{label: platform, write: true}]
`)
	return parseConfig(t, b.String())
}

// TestAWSPolicyLimitExact: a policy of exactly 4,096 characters is printed, one of 4,097
// refused.
func TestAWSPolicyLimitExact(t *testing.T) {
	req := Request{Provider: "aws", Stack: "stack-001", Scope: runs.Write}
	for n := 2; n < 400; n++ {
		doc, err := Render(oneSubRole(t, n, 1), req)
		if err != nil {
			t.Fatalf("%d stacks: %v", n, err)
		}
		const iamMax = 4096 // IAM's limit with a raised quota, not the package's constant
		gap := iamMax - doc.(AWSPolicy).Chars()
		if gap < 0 || gap > 61 {
			continue
		}
		// Each character more in the last stack's id is one more in its one sub.
		doc, err = Render(oneSubRole(t, n, 1+gap), req)
		if err != nil || doc.(AWSPolicy).Chars() != iamMax {
			t.Fatalf("policy of %d characters: %v", iamMax, err)
		}
		if _, err := Render(oneSubRole(t, n, 2+gap), req); !errors.Is(err, ErrPolicyTooLarge) {
			t.Errorf("policy of %d characters: err = %v, want ErrPolicyTooLarge", iamMax+1, err)
		}
		return
	}
	t.Fatal("setup: no stack count brings the policy within an id's length of the limit")
}

// gcpSpacesConfig gives each id of spaces a space under root holding one stack, all attached for
// write to one GCP integration of root.
func gcpSpacesConfig(t *testing.T, spaces []string) *config.Config {
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nspaces:\n  - {id: root}\n")
	for _, s := range spaces {
		fmt.Fprintf(&b, "  - {id: %s, parent: root, inherit: true}\n", s)
	}
	b.WriteString("stacks:\n")
	for i, s := range spaces {
		fmt.Fprintf(&b, "  - {id: s-%03d, space: %s}\n", i, s)
	}
	b.WriteString(`integrations:
  - {id: g, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: sa@p.iam.gserviceaccount.com}}
attachments:
`)
	for i := range spaces {
		fmt.Fprintf(&b, "  - {stack: s-%03d, integration: g, write: true}\n", i)
	}
	return parseConfig(t, b.String())
}

// TestGCPConditionLimitExact: an attribute condition of exactly 4,096 characters is
// printed, one of 4,097 refused.
func TestGCPConditionLimitExact(t *testing.T) {
	const prefix = `assertion.callerType == "stack" && assertion.spaceId in [`
	condLen := func(ids []string) int {
		q := make([]string, len(ids))
		for i, id := range ids {
			q[i] = fmt.Sprintf("%q", id)
		}
		return len(prefix) + len(strings.Join(q, ", ")) + len("]")
	}
	const googleMax = 4096 // Google's limit, not the package's constant under test
	for _, limit := range []int{googleMax, googleMax + 1} {
		var ids []string
		for i := 0; condLen(ids) < limit-67; i++ {
			ids = append(ids, fmt.Sprintf("s%03d", i)+strings.Repeat("x", 59))
		}
		last := limit - condLen(ids) - 4 // ", " and the quotes
		if last < 4 || last > 63 {
			t.Fatalf("setup: last id of %d characters", last)
		}
		ids = append(ids, "zzzz"+strings.Repeat("y", last-4))
		if n := condLen(ids); n != limit {
			t.Fatalf("setup: condition of %d characters, want %d", n, limit)
		}
		doc, err := Render(gcpSpacesConfig(t, ids), Request{Provider: "gcp", Stack: "s-000", Scope: runs.Write})
		switch {
		case limit > googleMax && !errors.Is(err, ErrProviderTooLarge):
			t.Errorf("condition of %d characters: err = %v, want ErrProviderTooLarge", limit, err)
		case limit <= googleMax && err != nil:
			t.Errorf("condition of %d characters: %v", limit, err)
		case limit <= googleMax && len(doc.(GCPTrust).Provider.AttributeCondition) != limit:
			t.Errorf("condition of %d characters printed as %d", limit, len(doc.(GCPTrust).Provider.AttributeCondition))
		}
	}
}

// TestGCPCustomAudienceKept: a provider shared by an integration with its own audience and
// one without allows both audiences, whichever comes first.
func TestGCPCustomAudienceKept(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}, {id: b, space: root}]
integrations:
  - {id: g-a, space: root, audience: aud-a, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: a@p.iam.gserviceaccount.com}}
  - {id: g-b, space: root, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: b@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: g-a, write: true}
  - {stack: b, integration: g-b, write: true}
`)
	for _, stack := range []string{"a", "b"} {
		doc, err := Render(cfg, Request{Provider: "gcp", Stack: stack, Scope: runs.Write})
		if err != nil {
			t.Fatal(err)
		}
		got := doc.(GCPTrust).Provider.AllowedAudiences
		want := []string{"aud-a", "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov"}
		if !slices.Equal(got, want) {
			t.Errorf("printed for %s: allowedAudiences %v, want %v", stack, got, want)
		}
	}
}

// TestVaultRoleSharersMustAgree: two integrations logging in to one Vault role with
// different durations cannot share it: the role printed for one would give the other's tokens
// the wrong lifetime.
func TestVaultRoleSharersMustAgree(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: v-read, space: root, audience: vault, duration: 15m, vault: {address: "https://vault.example.com", role: shared}}
  - {id: v-write, space: root, audience: vault, duration: 1h, vault: {address: "https://vault.example.com", role: shared}}
attachments:
  - {stack: a, integration: v-read, read: true}
  - {stack: a, integration: v-write, write: true}
`)
	for _, scope := range []runs.Scope{runs.Read, runs.Write} {
		doc, err := Render(cfg, Request{Provider: "vault", Stack: "a", Scope: scope})
		if err == nil {
			out, _ := json.Marshal(doc)
			t.Errorf("%s: printed one role for two TTLs: %s", scope, out)
		} else if !strings.Contains(err.Error(), "different audiences, policies or TTLs") {
			t.Errorf("%s: %v, want the refusal naming the sharers' differing TTLs", scope, err)
		}
	}
}

// TestShellWordQuotesOperators: a word holding a shell operator or a single quote, with no
// space, is still quoted, and a quote inside is escaped.
func TestShellWordQuotesOperators(t *testing.T) {
	for in, want := range map[string]string{
		"plain-word_1.2@x:y=z,a+b/c": "plain-word_1.2@x:y=z,a+b/c",
		"a;id":                       "'a;id'",
		"a|sh":                       "'a|sh'",
		"it's":                       `'it'\''s'`,
		"x'$(id)'":                   `'x'\''$(id)'\'''`,
	} {
		if got := shellWord(in); got != want {
			t.Errorf("shellWord(%q) = %s, want %s", in, got, want)
		}
	}
	cfg := exampleConfig(t)
	for i := range cfg.Integrations {
		if v := cfg.Integrations[i].Vault; v != nil {
			v.Role = "x;id"
		}
	}
	line, err := VaultWriteCommand(cfg, Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	if want := `vault write 'auth/jwt/role/x;id' -`; line != want {
		t.Errorf("line %s, want %s", line, want)
	}
}
