package main

import (
	"strings"
	"testing"
)

// A file that moves a stack's read attachment from one integration to another (both listed,
// the file valid as a whole) applies in one run even when the new read attachment is listed
// first: the one refused for the conflict goes again once the others are applied.
func TestApplyMovesReadAttachmentInOneRun(t *testing.T) {
	b := startLive(t, liveFile(""))
	v1 := `spaces:
  - {id: prod, parent: root}
stacks:
  - {id: vpc, space: prod}
integrations:
  - {id: aws-a, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/a"}}
  - {id: aws-b, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/b"}}
attachments:
  - {stack: vpc, integration: aws-a, read: true, write: true}
`
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "v1.yaml", v1)); r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	v2 := strings.Replace(v1, "  - {stack: vpc, integration: aws-a, read: true, write: true}\n",
		"  - {stack: vpc, integration: aws-b, read: true}\n  - {stack: vpc, integration: aws-a, write: true}\n", 1)
	if r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "v2.yaml", v2)); r.code != 0 {
		t.Errorf("apply of a valid file failed:\n%s%s", r.stdout, r.stderr)
	}
}
