package main

import (
	"strings"
	"testing"
)

// TestApplyMovesAStackOutBeforeItsSpaceWhenItsTargetChanges: a file that moves space
// team under space other (where the runner key holds run rights) and moves stack vpc out of
// team into space b must not let the runner key reach vpc meanwhile, also when the file
// changes b itself (its own subject template, or inherit turned off), so that vpc cannot go
// before b does: neither before the apply (team under prod) nor after it (vpc in b under prod)
// does the key cover vpc, and an order exists that never lets it (b, then vpc, then team).
func TestApplyMovesAStackOutBeforeItsSpaceWhenItsTargetChanges(t *testing.T) {
	cases := []struct{ name, before, after string }{
		{"b given its own template", `{"parent":"prod"}`,
			"  - {id: b, parent: prod, subject_template: \"b:{callerId}:s:{scope}\"}\n"},
		{"b's inherit turned off", `{"parent":"prod","inherit":true}`,
			"  - {id: b, parent: prod, inherit: false}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/team", `{"parent":"prod"}`)
			b.put(t, "/v1/spaces/b", tc.before)
			b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
			runner := midRunnerKey(t, b)
			if midReaches(t, b, runner) {
				t.Fatal("set-up: the runner key reaches vpc before apply")
			}
			file := "spaces:\n  - {id: team, parent: other}\n" + tc.after +
				"stacks:\n  - {id: vpc, space: b}\n"
			for _, s := range midApplyWatchKey(t, b, midKeyApply{runner, file}) {
				t.Errorf("the runner key reached vpc mid-apply: %s", s)
			}
			if midReaches(t, b, runner) {
				t.Error("the runner key reaches vpc after apply")
			}
		})
	}
}

// setUpWriteOnly gives b the broker state of gitopsSwapFile: stack vpc labelled net,
// integration r1 attaching it for read by rule, and w2 attached to it directly for write only.
func setUpWriteOnly(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["net"]}`)
	b.put(t, "/v1/integrations/r1", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/r1"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/w2", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w2"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/w2", `{"read":false,"write":true}`)
}

// TestApplyNamesAHeldAttachmentChanged: broker apply prints "KIND/ID changed" for an
// object the broker held before the apply and "created" only for one it did not hold; a direct
// attachment the broker held for write only, which the file makes read only, was changed,
// as the dry run of the same file says, not created.
func TestApplyNamesAHeldAttachmentChanged(t *testing.T) {
	b := startLive(t, liveFile(""))
	setUpWriteOnly(t, b)
	file := writeFile(t, "file.yaml", gitopsSwapFile)
	dry := b.cli(t, liveAdmin, "apply", "--dry-run", "-f", file)
	if !strings.Contains(dry.stdout, "attachment/vpc/w2 changed (dry run)") {
		t.Fatalf("dry run: %+v", dry)
	}
	r := b.cli(t, liveAdmin, "apply", "-f", file)
	if r.code != 0 {
		t.Fatalf("apply: %+v", r)
	}
	if !strings.Contains(r.stdout, "attachment/vpc/w2 changed\n") ||
		strings.Contains(r.stdout, "w2 created") {
		t.Errorf("apply of an attachment the broker held, which the dry run called changed:\n%s",
			r.stdout)
	}
}

// TestApplySaysALostAttachmentWasDeleted: when broker apply deletes a direct attachment
// held for write only (to make it again read only) and then cannot make it again, its output
// says that the attachment is gone, rather than that it was left with the write taken away,
// which reads as if a read-only attachment were still there.
func TestApplySaysALostAttachmentWasDeleted(t *testing.T) {
	b := startLive(t, liveFile(""))
	setUpWriteOnly(t, b)
	// r1's read rule stays: w2 cannot be made again for read.
	file := "stacks:\n  - {id: vpc, space: prod, labels: [net]}\nattachments:\n" +
		"  - {stack: vpc, integration: w2, read: true, write: false}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", file))
	if r.code != 1 {
		t.Fatalf("apply of a file the broker refuses: %+v", r)
	}
	if strings.Contains(orderGet(t, b, "/v1/stacks/vpc/attachments"), `"w2"`) {
		t.Skip("w2 was not deleted")
	}
	if !strings.Contains(r.stdout, "attachment/vpc/w2 deleted") {
		t.Errorf("w2 is gone, and the output does not say so:\n%s", r.stdout)
	}
}

// TestApplyDeletesNothingForAnAttachmentOfNeither: an attachment of the file that sets
// neither read nor write is malformed (the broker refuses it, 400); broker apply must not
// delete the broker's attachment for it before the broker refuses it, as it did not before
// write-only attachments were deleted first: the broker's w2 stays.
func TestApplyDeletesNothingForAnAttachmentOfNeither(t *testing.T) {
	b := startLive(t, liveFile(""))
	setUpWriteOnly(t, b)
	file := "attachments:\n  - {stack: vpc, integration: w2, read: false, write: false}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", file))
	if r.code != 1 {
		t.Fatalf("apply of a malformed attachment: %+v", r)
	}
	if got := orderGet(t, b, "/v1/stacks/vpc/attachments"); !strings.Contains(got, `"w2"`) {
		t.Errorf("w2 deleted for a malformed attachment of the file: %s\n%s", got, r.stdout)
	}
}
