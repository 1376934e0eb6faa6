package main

import (
	"testing"
)

// narrowConflictFile labels stack vpc net, unlabels stack other, and narrows
// integration aws-w's rule on net from write to read. Applied as a whole it is valid: once
// other no longer carries net, aws-w's read rule does not meet other's direct read
// attachment to aws-r2.
const narrowConflictFile = `stacks:
  - {id: vpc, space: base, labels: [net]}
  - {id: other, space: base, labels: []}
integrations:
  - id: aws-w
    space: base
    aws: {role_arn: "arn:aws:iam::123456789012:role/w"}
    autoattach: [{label: net, read: true}]
`

// setUpNarrowConflict gives b an unlabelled stack vpc, a stack other labelled net and
// attached directly for read to aws-r2, and an integration aws-w whose rule attaches stacks
// labelled net for write: narrowing aws-w first is refused (409) while other carries net.
func setUpNarrowConflict(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/stacks/vpc", `{"space":"base","labels":[]}`)
	b.put(t, "/v1/stacks/other", `{"space":"base","labels":["net"]}`)
	b.put(t, "/v1/integrations/aws-r2", `{"space":"base","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/r2"}}`)
	b.put(t, "/v1/stacks/other/attachments/aws-r2", `{"read":true}`)
	b.put(t, "/v1/integrations/aws-w", `{"space":"base","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
}

// TestApplyNarrowingRefusedFirstGrantsNoWrite checks that an integration whose change only takes
// write away from autoattach labels still goes before the spaces and stacks when the broker
// first refuses it for a conflict a later object of the file resolves: stack vpc, which the
// file never attaches for write, holds no write attachment at any point of the apply.
func TestApplyNarrowingRefusedFirstGrantsNoWrite(t *testing.T) {
	b := startLive(t, liveFile(""))
	setUpNarrowConflict(t, b)
	for _, s := range applyWatchingVPC(t, b, narrowConflictFile) {
		t.Errorf("vpc held a write attachment mid-apply: %s", s)
	}
	if got := vPCWrites(t, b); got != "" {
		t.Errorf("vpc holds a write attachment after apply: %s", got)
	}
}
