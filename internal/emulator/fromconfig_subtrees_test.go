package emulator

import (
	"slices"
	"strings"
	"testing"
)

// TestSharedRoleAcrossSubtreesIsNoted: two sibling subtrees' integrations name one AWS role. The
// emulator trusts what broker trust prints for the first, which leaves the other subtree's
// attachment out, and a note says so.
func TestSharedRoleAcrossSubtreesIsNoted(t *testing.T) {
	set := fromYAML(t, `issuer: https://broker.example.com
spaces: [{id: root}, {id: ta, parent: root}, {id: tb, parent: root}]
stacks: [{id: sa, space: ta}, {id: sb, space: tb}]
integrations:
  - {id: aws-a, space: ta, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
  - {id: aws-b, space: tb, aws: {role_arn: "arn:aws:iam::123456789012:role/shared"}}
attachments:
  - {stack: sa, integration: aws-a, read: true}
  - {stack: sb, integration: aws-b, read: true}
`)
	shared := roleSubjects(set)["arn:aws:iam::123456789012:role/shared"]
	t.Logf("role shared trusts %v; notes %q", shared, set.Notes)
	hasA := slices.Contains(shared, "space:ta:stack:sa:run_type:TRACKED:scope:read")
	hasB := slices.Contains(shared, "space:tb:stack:sb:run_type:TRACKED:scope:read")
	noted := slices.ContainsFunc(set.Notes, func(n string) bool {
		return strings.HasPrefix(n, "role arn:aws:iam::123456789012:role/shared is not emulated for stack sb (read) through integration aws-b of space tb")
	})
	if !hasA || hasB || !noted {
		t.Errorf("a valid configuration's attachment is not emulated, and no note says so (sa trusted: %v, sb trusted: %v)", hasA, hasB)
	}
}
