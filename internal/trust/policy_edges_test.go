package trust

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestWebIdentityNeedsTheIssuersProvider: a statement is a web-identity grant for an
// issuer only when its Federated principal is that issuer's OIDC provider; a statement whose
// conditions name the issuer's keys but whose principal is another provider (or an AWS
// principal) admits nothing of the issuer.
// Guards against: render.go:WebIdentity dropping the Federated oidc-provider suffix check
func TestWebIdentityNeedsTheIssuersProvider(t *testing.T) {
	const issuer = "https://broker.example.com"
	cond := map[string]map[string]any{"StringEquals": {
		"broker.example.com:aud": "sts.amazonaws.com",
		"broker.example.com:sub": []string{"space:prod:stack:a:scope:write"},
	}}
	for _, tc := range []struct {
		name      string
		principal map[string]string
		ok        bool
	}{
		{"the issuer's provider", map[string]string{"Federated": "arn:aws:iam::123456789012:oidc-provider/broker.example.com"}, true},
		{"another issuer's provider", map[string]string{"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}, false},
		{"an AWS principal", map[string]string{"AWS": "arn:aws:iam::123456789012:role/broker"}, false},
	} {
		st := AWSStatement{Effect: "Allow", Principal: tc.principal, Action: []string{"sts:AssumeRoleWithWebIdentity"}, Condition: cond}
		if _, ok := st.WebIdentity(issuer); ok != tc.ok {
			t.Errorf("%s: ok = %v, want %v", tc.name, ok, tc.ok)
		}
	}
}

// TestAWSIssuerWithPath: an issuer with a path names its IAM OIDC provider and condition
// keys by host and path, without the scheme and without a trailing slash, as IAM does.
// Guards against: subjects.go:issuerHostPath dropping the path
// Guards against: subjects.go:issuerHostPath keeping a trailing slash
func TestAWSIssuerWithPath(t *testing.T) {
	cfg := parseConfig(t, `issuer: https://broker.example.com/tenant-a
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: role, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/deploy"}}
attachments:
  - {stack: a, integration: role, write: true}
`)
	var policy AWSPolicy
	if err := json.Unmarshal([]byte(render(t, cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Write})), &policy); err != nil {
		t.Fatal(err)
	}
	st := policy.Statement[0]
	if got, want := st.Principal["Federated"], "arn:aws:iam::123456789012:oidc-provider/broker.example.com/tenant-a"; got != want {
		t.Errorf("principal %q, want %q", got, want)
	}
	if _, ok := st.Condition["StringEquals"]["broker.example.com/tenant-a:aud"]; !ok {
		t.Errorf("conditions %v lack the key broker.example.com/tenant-a:aud", st.Condition)
	}
	for issuer, want := range map[string]string{
		"https://broker.example.com/tenant-a":  "broker.example.com/tenant-a",
		"https://broker.example.com/tenant-a/": "broker.example.com/tenant-a",
		"https://broker.example.com":           "broker.example.com",
	} {
		if got := issuerHostPath(issuer); got != want || strings.Contains(got, "https") {
			t.Errorf("issuerHostPath(%q) = %q, want %q", issuer, got, want)
		}
	}
}

// TestGCPBindingGrantsWorkloadIdentityUser: the service-account binding printed for GCP
// grants exactly roles/iam.workloadIdentityUser (what lets a federated principal impersonate
// the service account), to the stack's principal set, on the integration's service account.
// Guards against: render.go:gcp binding role changed
func TestGCPBindingGrantsWorkloadIdentityUser(t *testing.T) {
	cfg := sharedConfig(t)
	doc, err := Render(cfg, Request{Provider: "gcp", Stack: "a", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	b := doc.(GCPTrust).Binding
	if b.Role != "roles/iam.workloadIdentityUser" || b.ServiceAccount != "team@p.iam.gserviceaccount.com" {
		t.Errorf("binding %+v, want roles/iam.workloadIdentityUser on team@p.iam.gserviceaccount.com", b)
	}
}

// TestVaultRoleBindsCallerType: the Vault role's bound claims require callerType "stack"
// besides the space, the stack and the scope, so a token minted for another kind of caller
// with the same id never logs in.
// Guards against: vault_role.go:vault dropping the callerType bound claim
func TestVaultRoleBindsCallerType(t *testing.T) {
	doc, err := Render(exampleConfig(t), Request{Provider: "vault", Stack: "vpc-prod", Scope: runs.Write})
	if err != nil {
		t.Fatal(err)
	}
	claims := doc.(VaultRole).BoundClaims
	if claims["callerType"] != "stack" || claims["callerId"] != "vpc-prod" {
		t.Errorf("bound claims %v, want callerType stack and callerId vpc-prod", claims)
	}
}

// TestSharersOrderedByScopeBeforeIntegration: the (stack, scope) pairs sharing one
// cloud-side object are ordered by stack, then scope, then integration: a stack attached to one
// AWS role through one integration for write and another for read lists its read subjects
// before its write subjects, whatever the integrations' ids and the attachments' order.
// Guards against: shared.go:sharing sort comparing stack and integration but not scope
func TestSharersOrderedByScopeBeforeIntegration(t *testing.T) {
	const head = `issuer: https://broker.example.com
spaces: [{id: root}]
stacks: [{id: a, space: root}]
integrations:
  - {id: i1, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/deploy"}}
  - {id: i2, space: root, aws: {role_arn: "arn:aws:iam::123456789012:role/deploy"}}
attachments:
`
	for _, atts := range []string{
		"  - {stack: a, integration: i1, write: true}\n  - {stack: a, integration: i2, read: true}\n",
		"  - {stack: a, integration: i2, read: true}\n  - {stack: a, integration: i1, write: true}\n",
	} {
		cfg := parseConfig(t, head+atts)
		var policy AWSPolicy
		if err := json.Unmarshal([]byte(render(t, cfg, Request{Provider: "aws", Stack: "a", Scope: runs.Write})), &policy); err != nil {
			t.Fatal(err)
		}
		subs := subConditionValues(policy)
		reads, _ := Subjects(cfg, "a", runs.Read)
		writes, _ := Subjects(cfg, "a", runs.Write)
		if want := slices.Concat(reads, writes); !slices.Equal(subs, want) {
			t.Errorf("attachments\n%s: subjects %q, want the read ones first: %q", atts, subs, want)
		}
	}
}

// subConditionValues is every sub condition value of policy, in order.
func subConditionValues(policy AWSPolicy) []string {
	var out []string
	for _, st := range policy.Statement {
		for _, cond := range st.Condition {
			for k, v := range cond {
				if strings.HasSuffix(k, ":sub") {
					for _, sub := range v.([]any) {
						out = append(out, sub.(string))
					}
				}
			}
		}
	}
	return out
}

// TestRenderRefusesUnknownScope: a request for a scope other than read or write is
// refused with an error that says the scope must be read or write, for every provider, even
// when an integration is named.
// Guards against: subjects.go:resolve dropping the scope validation
func TestRenderRefusesUnknownScope(t *testing.T) {
	cfg := sharedConfig(t)
	for _, req := range []Request{
		{Provider: "aws", Stack: "a", Scope: runs.Scope("admin")},
		{Provider: "aws", Stack: "a", Scope: runs.Scope(""), Integration: "aws-a"},
		{Provider: "gcp", Stack: "a", Scope: runs.Scope("READ")},
	} {
		_, err := Render(cfg, req)
		if err == nil || !strings.Contains(err.Error(), "scope must be read or write") {
			t.Errorf("%+v: error %v, want one saying the scope must be read or write", req, err)
		}
	}
}

// TestSubjectsOfUnconfiguredSpaceFail: a stack whose space is not configured has no
// subjects to print, and asking for them is an error, never an empty list (a trust document
// naming no subject).
// Guards against: subjects.go:subjectsFor skipping subjects whose space is not configured
func TestSubjectsOfUnconfiguredSpaceFail(t *testing.T) {
	cfg := sharedConfig(t)
	cfg.Stacks = append(cfg.Stacks, config.Stack{ID: "ghost", Space: "nowhere"})
	for _, scope := range []runs.Scope{runs.Read, runs.Write} {
		if subs, err := Subjects(cfg, "ghost", scope); err == nil {
			t.Errorf("%s: subjects %q, want an error", scope, subs)
		}
	}
}
