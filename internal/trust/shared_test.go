package trust

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// sharedConfig has stacks a and b in space team and c in space ops, under team. The AWS role "shared" is
// attached to a for read (integration aws-a), to b for write (aws-b), and to c for read
// through an integration with its own audience (aws-c); the GCP provider "pool/providers/prov"
// serves a (read, write) and c (read) through two integrations.
func sharedConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces:
  - {id: root}
  - {id: team, parent: root, inherit: true}
  - {id: ops, parent: team, inherit: true}
stacks: [{id: a, space: team}, {id: b, space: team}, {id: c, space: ops}]
integrations:
  - {id: aws-a, space: team, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
  - {id: aws-b, space: team, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
  - {id: aws-c, space: ops, audience: ops-aws, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
  - {id: aws-other, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/other"}}
  - {id: gcp-team, space: team, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: team@p.iam.gserviceaccount.com}}
  - {id: gcp-ops, space: ops, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/prov, service_account: ops@p.iam.gserviceaccount.com}}
attachments:
  - {stack: a, integration: aws-a, read: true}
  - {stack: b, integration: aws-b, write: true}
  - {stack: b, integration: aws-other, read: true}
  - {stack: c, integration: aws-c, read: true}
  - {stack: a, integration: gcp-team, read: true, write: true}
  - {stack: c, integration: gcp-ops, read: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAWSSharedRole: a role has one trust policy, so the policy printed for any stack that
// assumes it admits every (stack, scope) attached to it, each by its own subjects, and nothing
// else: pasting the policy of one stack must not lock the others out, nor let b's read runs
// (attached to another role) or a's write runs in.
func TestAWSSharedRole(t *testing.T) {
	cfg := sharedConfig(t)
	a := render(t, cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Read})
	for _, req := range []Request{{Provider: "aws", Stack: "b", Scope: runs.Write}, {Provider: "aws", Stack: "c", Scope: runs.Read}} {
		if got := render(t, cfg, req); got != a {
			t.Errorf("the policy of role shared for %s (%s) differs from a's:\n%s\n%s", req.Stack, req.Scope, got, a)
		}
	}
	var policy AWSPolicy
	if err := json.Unmarshal([]byte(a), &policy); err != nil {
		t.Fatal(err)
	}
	if len(policy.Statement) != 2 {
		t.Fatalf("want one statement per audience, got %d:\n%s", len(policy.Statement), a)
	}
	type admitted struct{ aud, sub string }
	var got []admitted
	for _, st := range policy.Statement {
		eq := st.Condition["StringEquals"]
		for _, sub := range eq["broker.example.com:sub"].([]any) {
			got = append(got, admitted{eq["broker.example.com:aud"].(string), sub.(string)})
		}
	}
	want := []admitted{
		{"sts.amazonaws.com", "space:team:stack:a:run_type:PROPOSED:scope:read"},
		{"sts.amazonaws.com", "space:team:stack:a:run_type:TRACKED:scope:read"},
		{"sts.amazonaws.com", "space:team:stack:a:run_type:TASK:scope:read"},
		{"sts.amazonaws.com", "space:team:stack:a:run_type:DESTROY:scope:read"},
		{"sts.amazonaws.com", "space:team:stack:b:run_type:TRACKED:scope:write"},
		{"sts.amazonaws.com", "space:team:stack:b:run_type:TASK:scope:write"},
		{"sts.amazonaws.com", "space:team:stack:b:run_type:DESTROY:scope:write"},
		{"ops-aws", "space:ops:stack:c:run_type:PROPOSED:scope:read"},
		{"ops-aws", "space:ops:stack:c:run_type:TRACKED:scope:read"},
		{"ops-aws", "space:ops:stack:c:run_type:TASK:scope:read"},
		{"ops-aws", "space:ops:stack:c:run_type:DESTROY:scope:read"},
	}
	slices.SortFunc(got, func(x, y admitted) int { return strings.Compare(x.aud+x.sub, y.aud+y.sub) })
	slices.SortFunc(want, func(x, y admitted) int { return strings.Compare(x.aud+x.sub, y.aud+y.sub) })
	if !slices.Equal(got, want) {
		t.Errorf("admitted (audience, sub):\n got %v\nwant %v", got, want)
	}
	other := render(t, cfg, Request{Provider: "aws", Stack: "b", Scope: runs.Read})
	if strings.Contains(other, "stack:a") || strings.Contains(other, "scope:write") {
		t.Errorf("the policy of role other admits what is attached to role shared:\n%s", other)
	}
}

// TestAWSSharedAssumeRole: an assume-role role lists the ExternalId of every pair attached to it.
func TestAWSSharedAssumeRole(t *testing.T) {
	cfg := sharedConfig(t)
	for i := range cfg.Integrations {
		if a := cfg.Integrations[i].AWS; a != nil {
			a.Mode = config.AWSModeAssumeRole
		}
	}
	req := Request{Provider: "aws", Stack: "b", Scope: runs.Write, AWSPrincipal: "arn:aws:iam::111111111111:role/broker"}
	got := render(t, cfg, req)
	want := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/broker"},` +
		`"Action":["sts:AssumeRole"],"Condition":{"StringEquals":{"sts:ExternalId":["broker.example.com@aws-a@a@read",` +
		`"broker.example.com@aws-b@b@write","broker.example.com@aws-c@c@read"]}}}]}`
	if got != want {
		t.Errorf("policy:\n%s\nwant\n%s", got, want)
	}
	req.AWSPrincipal = ""
	if _, err := Render(cfg, req); !errors.Is(err, ErrNeedsPrincipal) {
		t.Errorf("without a principal: err = %v", err)
	}
}

// TestGCPSharedProvider: a workload identity provider has one attribute condition and one
// mapping, so what is printed for any stack exchanging through it admits the spaces of all of
// them; the binding stays the stack's own (bindings add up).
func TestGCPSharedProvider(t *testing.T) {
	cfg := sharedConfig(t)
	docs := map[string]GCPTrust{}
	for _, req := range []Request{{Provider: "gcp", Stack: "a", Scope: runs.Write}, {Provider: "gcp", Stack: "c", Scope: runs.Read}} {
		var doc GCPTrust
		if err := json.Unmarshal([]byte(render(t, cfg, req)), &doc); err != nil {
			t.Fatal(err)
		}
		docs[req.Stack] = doc
	}
	const cond = `assertion.callerType == "stack" && assertion.spaceId in ["team", "ops"]`
	for stack, doc := range docs {
		if doc.Provider.AttributeCondition != cond {
			t.Errorf("%s: attributeCondition %s, want %s", stack, doc.Provider.AttributeCondition, cond)
		}
		if doc.Provider.AllowedAudiences != nil {
			t.Errorf("%s: allowedAudiences %v, want Google's default", stack, doc.Provider.AllowedAudiences)
		}
	}
	if !strings.HasSuffix(docs["a"].Binding.Member, "/attribute.space_stack_scope/prov/team/a@write") || docs["a"].Binding.ServiceAccount != "team@p.iam.gserviceaccount.com" ||
		!strings.HasSuffix(docs["c"].Binding.Member, "/attribute.space_stack_scope/prov/ops/c@read") || docs["c"].Binding.ServiceAccount != "ops@p.iam.gserviceaccount.com" {
		t.Errorf("bindings: %+v, %+v", docs["a"].Binding, docs["c"].Binding)
	}
	for i := range cfg.Integrations {
		if cfg.Integrations[i].ID == "gcp-ops" {
			cfg.Integrations[i].Audience = "ops-gcp"
		}
	}
	got := render(t, cfg, Request{Provider: "gcp", Stack: "a", Scope: runs.Read})
	if !strings.Contains(got, `"allowedAudiences":["//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov","ops-gcp"]`) {
		t.Errorf("a custom audience on one integration must list every integration's audience:\n%s", got)
	}
}

// TestVaultRoleNamesIgnoreCase: Vault keeps JWT role names in lower case, so integrations
// naming "deploy" and "Deploy" on one Vault and mount log in to one role: broker never prints
// two different documents for it (each would replace the other when installed), and here,
// where they differ in their policies, refuses both.
func TestVaultRoleNamesIgnoreCase(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces: [{id: root}, {id: prod, parent: root, inherit: true}]
stacks: [{id: s1, space: prod}, {id: s2, space: prod}]
integrations:
  - {id: v-write, space: prod, vault: {address: "https://vault.example.com", mount: jwt, role: deploy}}
  - {id: v-read, space: prod, vault: {address: "https://vault.example.com", mount: jwt, role: Deploy}}
attachments:
  - {stack: s1, integration: v-write, write: true}
  - {stack: s2, integration: v-read, read: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []Request{{Provider: "vault", Stack: "s1", Scope: runs.Write}, {Provider: "vault", Stack: "s2", Scope: runs.Read}} {
		if doc, err := Render(cfg, req); err == nil {
			t.Errorf("%s: printed %+v for a role another integration shares under another case", req.Stack, doc)
		}
	}
}

// TestAzureApplicationHoldsTwenty: Entra holds at most 20 federated identity credentials per
// application. One integration attached for read and write to two stacks needs 14 (seven run
// types and scopes each) and is printed; to three stacks it needs 21, and every stack's is
// refused, naming the limit, rather than printing credentials the last stack cannot get.
func TestAzureApplicationHoldsTwenty(t *testing.T) {
	for _, tc := range []struct {
		stacks int
		fits   bool
	}{{2, true}, {3, false}} {
		yaml := "issuer: https://broker.example.com\nspaces: [{id: root}, {id: prod, parent: root, inherit: true}]\nstacks:\n"
		for i := 1; i <= tc.stacks; i++ {
			yaml += fmt.Sprintf("  - {id: s%d, space: prod, labels: [platform]}\n", i)
		}
		yaml += `integrations:
  - id: az
    space: prod
    azure: {tenant_id: 00000000-0000-0000-0000-000000000001, client_id: 00000000-0000-0000-0000-000000000002}
    autoattach: [{label: platform, read: true, write: true}]
`
		cfg, err := config.Parse("t.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= tc.stacks; i++ {
			for _, scope := range []runs.Scope{runs.Read, runs.Write} {
				_, err := Render(cfg, Request{Provider: "azure", Stack: fmt.Sprintf("s%d", i), Scope: scope})
				if tc.fits && err != nil {
					t.Errorf("%d stacks, s%d %s: %v", tc.stacks, i, scope, err)
				}
				if !tc.fits && !errors.Is(err, ErrTooManyCredentials) {
					t.Errorf("%d stacks, s%d %s: err = %v, want ErrTooManyCredentials", tc.stacks, i, scope, err)
				}
			}
		}
	}
}

// sharedWriteRole is a configuration whose n stacks share one AWS role for write.
func sharedWriteRole(t *testing.T, n int) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nspaces: [{id: root}, {id: prod, parent: root, inherit: true}]\nstacks:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - {id: stack-%02d, space: prod, labels: [platform]}\n", i)
	}
	b.WriteString(`integrations:
  - id: aws-w
    space: prod
    aws: {role_arn: "arn:aws:iam::123456789012:role/platform-write"}
    autoattach: [{label: platform, write: true}]
`)
	cfg, err := config.Parse("t.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestAWSPolicyWithinIAMLimit: IAM takes a role trust policy of at most 2,048 characters
// without white space, 4,096 with a raised quota. A role shared by enough stacks to need more
// than 4,096 is refused for every one of them, naming the limit; below it the policy is
// printed, and Chars measures it as IAM does.
func TestAWSPolicyWithinIAMLimit(t *testing.T) {
	for _, tc := range []struct {
		stacks   int
		min, max int // Chars bounds; 0, 0: refused
	}{{5, 1, AWSPolicyQuotaChars}, {12, AWSPolicyQuotaChars + 1, AWSPolicyMaxChars}, {30, 0, 0}} {
		doc, err := Render(sharedWriteRole(t, tc.stacks), Request{Provider: "aws", Stack: "stack-01", Scope: runs.Write})
		if tc.max == 0 {
			if !errors.Is(err, ErrPolicyTooLarge) {
				t.Errorf("%d stacks: err = %v, want ErrPolicyTooLarge", tc.stacks, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d stacks: %v", tc.stacks, err)
		}
		compact, _ := json.Marshal(doc)
		if n := doc.(AWSPolicy).Chars(); n < tc.min || n > tc.max || n != len(compact) {
			t.Errorf("%d stacks: Chars = %d (compact JSON %d), want within %d..%d", tc.stacks, n, len(compact), tc.min, tc.max)
		}
	}
}

// TestVaultRoleOfOneServerSpelledTwoWays: two integrations logging in to one role on one Vault
// server, its address spelled differently (host or scheme in capitals, the default port written
// out), share the role: the role printed for one stack accepts the other's, so pasting it locks
// neither out.
func TestVaultRoleOfOneServerSpelledTwoWays(t *testing.T) {
	for _, b := range []string{"https://VAULT.example.com", "https://vault.example.com:443", "HTTPS://vault.example.com/"} {
		cfg, err := config.Parse("t.yaml", []byte(`issuer: https://broker.example.com
spaces: [{id: root}, {id: platform, parent: root, inherit: true}]
stacks: [{id: a, space: platform}, {id: b, space: platform}]
integrations:
  - {id: vault-a, space: root, audience: vault, vault: {address: "https://vault.example.com", role: terraform}}
  - {id: vault-b, space: root, audience: vault, vault: {address: "`+b+`", role: terraform}}
attachments:
  - {stack: a, integration: vault-a, write: true}
  - {stack: b, integration: vault-b, write: true}
`))
		if err != nil {
			t.Fatalf("address %q: %v", b, err)
		}
		if got := render(t, cfg, Request{Provider: "vault", Stack: "a", Scope: runs.Write}); !strings.Contains(got, `"b"`) {
			t.Errorf("address %q: the role printed for stack a drops stack b, which logs in to the same role:\n%s", b, got)
		}
	}
}

// TestSharedObjectLeavesOutOtherSubtrees: an integration of a space that may not use the
// printed one, and whose own space the printed stack may not use either (another subtree's
// administrator), naming the same AWS role or Vault role is left out of what is printed, with a
// note: it can neither write its stack into the role's trust nor make that trust unprintable.
func TestSharedObjectLeavesOutOtherSubtrees(t *testing.T) {
	cfg := sharedConfig(t)
	cfg.Spaces = append(cfg.Spaces, config.Space{ID: "base", Parent: "root", Inherit: true})
	cfg.Stacks = append(cfg.Stacks, config.Stack{ID: "evil", Space: "base"})
	cfg.Integrations = append(cfg.Integrations,
		config.Integration{ID: "aws-evil", Space: "base", AWS: &config.AWS{RoleARN: "arn:aws:iam::123456789012:role/shared"}},
		config.Integration{ID: "vault-team", Space: "team", Vault: &config.Vault{Address: "https://vault.example.com", Role: "deploy"}},
		config.Integration{ID: "vault-evil", Space: "base", Vault: &config.Vault{Address: "https://vault.example.com", Role: "deploy"}})
	cfg.Attachments = append(cfg.Attachments,
		config.Attachment{Stack: "evil", Integration: "aws-evil", Write: true},
		config.Attachment{Stack: "a", Integration: "vault-team", Read: true},
		config.Attachment{Stack: "evil", Integration: "vault-evil", Read: true, Write: true})
	cfg.ApplyObjectDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req      Request
		admits   []string
		excludes []string
		note     string
	}{
		{Request{Provider: "aws", Stack: "a", Scope: runs.Read}, []string{"stack:a:", "stack:b:", "stack:c:"}, []string{"stack:evil"},
			"stack evil (write) through integration aws-evil of space base"},
		{Request{Provider: "aws", Stack: "evil", Scope: runs.Write}, []string{"stack:evil"}, []string{"stack:a:", "stack:b:", "stack:c:"},
			"stack a (read) through integration aws-a of space team"},
		{Request{Provider: "vault", Stack: "a", Scope: runs.Read}, []string{`"a"`}, []string{`"evil"`},
			"stack evil (read) through integration vault-evil of space base"},
	} {
		doc, notes, err := RenderNotes(cfg, tc.req)
		if err != nil {
			t.Errorf("%s for %s: %v", tc.req.Provider, tc.req.Stack, err)
			continue
		}
		out, _ := json.Marshal(doc)
		for _, w := range tc.admits {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s for %s: %s missing from %s", tc.req.Provider, tc.req.Stack, w, out)
			}
		}
		for _, w := range tc.excludes {
			if strings.Contains(string(out), w) {
				t.Errorf("%s for %s admits %s of another subtree: %s", tc.req.Provider, tc.req.Stack, w, out)
			}
		}
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, tc.note) }) {
			t.Errorf("%s for %s: notes %q, want one starting %q", tc.req.Provider, tc.req.Stack, notes, tc.note)
		}
	}
}

// sharedGCPProvider is a configuration of n spaces under root, each with a stack attached for
// write to an integration of root of its own, all sharing one workload identity provider, each
// integration's audience its own when audiences is set.
func sharedGCPProvider(t *testing.T, n int, audiences bool) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("issuer: https://broker.example.com\nspaces:\n  - {id: root}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - {id: team-space-number-%03d, parent: root, inherit: true}\n", i)
	}
	b.WriteString("stacks:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - {id: s-%03d, space: team-space-number-%03d}\n", i, i)
	}
	b.WriteString("integrations:\n")
	for i := 1; i <= n; i++ {
		aud := ""
		if audiences {
			aud = fmt.Sprintf(", audience: aud-%03d", i)
		}
		fmt.Fprintf(&b, "  - {id: g-%03d, space: root%s, gcp: {workload_identity_provider: projects/1/locations/global/workloadIdentityPools/pool/providers/broker, service_account: w%03d@p.iam.gserviceaccount.com}}\n", i, aud, i)
	}
	b.WriteString("attachments:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - {stack: s-%03d, integration: g-%03d, write: true}\n", i, i)
	}
	cfg, err := config.Parse("t.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestGCPProviderWithinGoogleLimits: Google takes a workload identity pool provider with at most
// 10 allowed audiences and an attribute condition of at most 4,096 characters. A provider
// shared by more is refused for every stack, naming the limit, rather than printed for an
// install that fails for everyone sharing it; within them it is printed.
func TestGCPProviderWithinGoogleLimits(t *testing.T) {
	req := Request{Provider: "gcp", Stack: "s-001", Scope: runs.Write}
	for _, tc := range []struct {
		spaces    int
		audiences bool
		refused   bool
	}{{10, true, false}, {11, true, true}, {100, false, false}, {200, false, true}} {
		doc, err := Render(sharedGCPProvider(t, tc.spaces, tc.audiences), req)
		if tc.refused {
			if !errors.Is(err, ErrProviderTooLarge) {
				t.Errorf("%d spaces (audiences %v): err = %v, want ErrProviderTooLarge", tc.spaces, tc.audiences, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d spaces (audiences %v): %v", tc.spaces, tc.audiences, err)
		}
		p := doc.(GCPTrust).Provider
		if len(p.AllowedAudiences) > gcpMaxAudiences || len(p.AttributeCondition) > gcpMaxCondition {
			t.Errorf("%d spaces: %d audiences, condition of %d characters", tc.spaces, len(p.AllowedAudiences), len(p.AttributeCondition))
		}
	}
}
