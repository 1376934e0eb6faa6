package main

import (
	"strings"
	"testing"
)

// gitopsSwapFile hands stack vpc's AWS read from integration r1 (autoattach on label net) to
// integration w2, whose direct attachment to vpc goes from write only to read only. As a whole
// it is valid: once r1 drops its rule, vpc has one read attachment for AWS, w2's.
const gitopsSwapFile = `stacks:
  - {id: vpc, space: prod, labels: [net]}
integrations:
  - {id: r1, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/r1"}}
  - {id: w2, space: prod, aws: {role_arn: "arn:aws:iam::123456789012:role/w2"}}
attachments:
  - {stack: vpc, integration: w2, read: true, write: false}
`

// TestApplyHandsReadToAWriteOnlyAttachment: a file that only takes write away (a direct
// attachment held for write only becomes read only) and moves the stack's read from one
// integration to another is applied in one run, as before the narrowing pass: the pass must
// not put a form that adds a read attachment the broker still holds elsewhere, and stop.
func TestApplyHandsReadToAWriteOnlyAttachment(t *testing.T) {
	b := startLive(t, liveFile(""))
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"prod","labels":["net"]}`)
	b.put(t, "/v1/integrations/r1", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/r1"},"autoattach":[{"label":"net","read":true}]}`)
	b.put(t, "/v1/integrations/w2", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w2"}}`)
	b.put(t, "/v1/stacks/vpc/attachments/w2", `{"read":false,"write":true}`)
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", gitopsSwapFile))
	if r.code != 0 {
		t.Fatalf("apply of a valid file stopped: %+v", r)
	}
	got := orderGet(t, b, "/v1/stacks/vpc/attachments")
	if strings.Contains(got, `"write":true`) || !strings.Contains(got, `"w2"`) {
		t.Errorf("vpc's attachments after apply: %s", got)
	}
}

// TestApplyMovesAStackOutBeforeItsSpaceMovesUnderAKey: a file that moves space team
// under space other (where the runner key holds run rights) and moves stack vpc out of team
// into space b must not let the runner key reach vpc meanwhile: neither before the apply (team
// under prod) nor after it (vpc in b under prod) does the key cover vpc. vpc can go first when
// the file only makes b inherit (b without inherit grants less than with it) or only changes
// the subject template of b's parent (a space's stacks carry their own space's template).
func TestApplyMovesAStackOutBeforeItsSpaceMovesUnderAKey(t *testing.T) {
	cases := []struct{ name, spaces string }{
		{"b made to inherit", "  - {id: b, parent: prod, inherit: true}\n"},
		{"b's parent given a template",
			"  - {id: prod, parent: root, subject_template: \"p:{callerId}:s:{scope}\"}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
			b.put(t, "/v1/spaces/team", `{"parent":"prod"}`)
			b.put(t, "/v1/spaces/b", `{"parent":"prod"}`)
			b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":[]}`)
			runner := midRunnerKey(t, b)
			if midReaches(t, b, runner) {
				t.Fatal("set-up: the runner key reaches vpc before apply")
			}
			file := "spaces:\n  - {id: team, parent: other}\n" + tc.spaces +
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
