package main

import (
	"strings"
	"testing"
)

// TestApplyAttachmentThroughInheritTurnedOn: the file turns inherit on for space s and attaches
// stack vpc (in s) directly to integration w of s's parent prod, which vpc may use only once s
// inherits. The space goes after the objects refused in the main pass; the attachment, refused
// there (400: vpc may not use w yet), goes once more after it, and the apply succeeds.
// Guards against: apply.go trying again only what was refused 409.
func TestApplyAttachmentThroughInheritTurnedOn(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/s", `{"parent":"prod"}`)
	b.put(t, "/v1/integrations/w", `{"space":"prod","aws":{"roleArn":"arn:aws:iam::123456789012:role/w"}}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"s"}`)
	file := "spaces:\n  - {id: s, parent: prod, inherit: true}\n" +
		"attachments:\n  - {stack: vpc, integration: w, read: true}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", file))
	t.Logf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 0 || strings.Contains(r.stdout, "failed") {
		t.Errorf("apply of a valid file (inherit on + an attachment it makes usable) failed: exit %d", r.code)
	}
}
