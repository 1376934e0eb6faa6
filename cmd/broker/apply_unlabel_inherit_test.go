package main

import (
	"testing"
)

// unlabelInheritFile lets space team inherit from prod and takes label net off stack
// vpc: once applied, vpc (in team) carries no label prod-w's write rule names, so it is
// attached to nothing for write, as before the apply (team did not inherit).
const unlabelInheritFile = `spaces:
  - {id: team, parent: prod, inherit: true}
stacks:
  - {id: vpc, space: team, labels: []}
`

// TestApplyUnlabelBeforeInheritGrantsNoWrite checks that a file letting a space inherit and
// taking off a stack in it the label an inherited write rule names never attaches the stack for
// write, not even mid-apply: a run in its write phase could take write credentials meanwhile,
// and an apply stopped half-way would leave them granted.
func TestApplyUnlabelBeforeInheritGrantsNoWrite(t *testing.T) {
	b := startLive(t, liveFile(""))
	setUpInherit(t, b)
	if got := vPCWrites(t, b); got != "" {
		t.Fatalf("set-up: vpc holds a write attachment before apply: %s", got)
	}
	for _, s := range applyWatchingVPC(t, b, unlabelInheritFile) {
		t.Errorf("vpc held a write attachment mid-apply: %s", s)
	}
	if got := vPCWrites(t, b); got != "" {
		t.Errorf("vpc holds a write attachment after apply: %s", got)
	}
}
