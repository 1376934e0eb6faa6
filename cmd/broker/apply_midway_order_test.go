package main

import (
	"testing"
)

// midRoleW is prod-w's AWS role.
const midRoleW = `{role_arn: "arn:aws:iam::123456789012:role/w"}`

// midSetUpOther is setUpInherit (team under prod, not inheriting; vpc in team labelled
// net; prod-w attaching net for write) plus a space other under root.
func midSetUpOther(t *testing.T, b *liveBroker) {
	t.Helper()
	setUpInherit(t, b)
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
}

// midSetUpMid gives b prod (holding prod-w, attaching net for write), mid under prod (not
// inheriting), team under mid (inheriting), vpc in team labelled net, and other under root:
// vpc reaches mid only, so it is attached to nothing for write.
func midSetUpMid(t *testing.T, b *liveBroker) {
	t.Helper()
	b.put(t, "/v1/spaces/prod", `{"parent":"root"}`)
	b.put(t, "/v1/spaces/mid", `{"parent":"prod"}`)
	b.put(t, "/v1/spaces/team", `{"parent":"mid","inherit":true}`)
	b.put(t, "/v1/spaces/other", `{"parent":"root"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"team","labels":["net"]}`)
	b.put(t, "/v1/integrations/prod-w", `{"space":"prod","aws":{"roleArn":`+
		`"arn:aws:iam::123456789012:role/w"},"autoattach":[{"label":"net","write":true}]}`)
}

const midTeamInherits = "spaces:\n  - {id: team, parent: prod, inherit: true}\n"

// TestApplyGrantsNoWriteMidApply checks that, for files under which stack vpc is attached
// to nothing for write (before the apply and once the whole file is in force), vpc holds no
// write attachment at any point of the apply, nor after an apply that stopped on a failure:
// a run in its write phase could take write credentials meanwhile.
func TestApplyGrantsNoWriteMidApply(t *testing.T) {
	cases := []struct {
		name  string
		setUp func(*testing.T, *liveBroker)
		file  string
	}{
		{"narrowing integration refused with 400", midSetUpOther, midTeamInherits +
			"integrations:\n  - {id: prod-w, space: prod, aws: " + midRoleW +
			", duration: 1s, autoattach: [{label: net, read: true}]}\n"},
		{"stack moved out of a space made to inherit", midSetUpOther, midTeamInherits +
			"stacks:\n  - {id: vpc, space: other, labels: [net]}\n"},
		{"integration write rule moved to another label", midSetUpOther, midTeamInherits +
			"integrations:\n  - {id: prod-w, space: prod, aws: " + midRoleW +
			", autoattach: [{label: net2, write: true}]}\n"},
		{"stack label swapped", midSetUpOther, midTeamInherits +
			"stacks:\n  - {id: vpc, space: team, labels: [blue]}\n"},
		{"integration moved to another space", midSetUpOther, midTeamInherits +
			"integrations:\n  - {id: prod-w, space: other, aws: " + midRoleW +
			", autoattach: [{label: net, write: true}]}\n"},
		{"stack and integration swap spaces", midSetUpOther,
			"stacks:\n  - {id: vpc, space: prod, labels: [net]}\n" +
				"integrations:\n  - {id: prod-w, space: team, aws: " + midRoleW +
				", autoattach: [{label: net, write: true}]}\n"},
		{"space moved out from under a space made to inherit", midSetUpMid,
			"spaces:\n  - {id: mid, parent: prod, inherit: true}\n" +
				"  - {id: team, parent: other, inherit: true}\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			tc.setUp(t, b)
			if got := vPCWrites(t, b); got != "" {
				t.Fatalf("set-up: vpc holds a write attachment before apply: %s", got)
			}
			seen, r := midApplyWatch(t, b, tc.file)
			for _, s := range seen {
				t.Errorf("vpc held a write attachment mid-apply: %s", s)
			}
			if got := vPCWrites(t, b); got != "" {
				t.Errorf("vpc holds a write attachment after apply (exit %d): %s\n%s%s",
					r.code, got, r.stdout, r.stderr)
			}
		})
	}
}

// midApplyWatch applies file with the admin key, noting before each PUT vpc's attachments when
// one of them is for write; it returns them and apply's result.
func midApplyWatch(t *testing.T, b *liveBroker, file string) ([]string, result) {
	return applyWatched(t, b, watchedApply{file: file, bad: func() string { return vPCWrites(t, b) }})
}
