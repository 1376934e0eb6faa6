package main

import (
	"strings"
	"testing"
)

// TestApplyRefusesABadIDBeforeAnyChange: as get and delete do, apply refuses a file with an id
// that breaks the id rule, an attachment's stack or integration included, before any changing
// request reaches the broker (the broker's request log would keep it), and does not repeat the
// id, even given twice: it may be a secret pasted in the wrong place. The other problems of the
// file are reported with it.
func TestApplyRefusesABadIDBeforeAnyChange(t *testing.T) {
	b := startLive(t, liveFile(""))
	const bad = "Brk_Pasted.Secret"
	files := map[string]string{
		"stack":       "stacks:\n  - {id: " + bad + ", space: root}\n  - {id: ok-stack, space: root}\n",
		"twice":       "stacks:\n  - {id: " + bad + ", space: root}\n  - {id: " + bad + ", space: root}\n",
		"attachment":  "attachments:\n  - {stack: " + bad + ", integration: x}\n",
		"with others": "spaces:\n  - {id: " + bad + "}\n  - {parent: root}\n",
	}
	for name, text := range files {
		r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "bad.yaml", text))
		if r.code == 0 || !strings.Contains(r.stderr, "is not an id") {
			t.Errorf("%s: apply of a bad id: exit %d, stderr %q; want a refusal", name, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, bad) {
			t.Errorf("%s: apply repeated the bad id: %+v", name, r)
		}
		if name == "with others" && !strings.Contains(r.stderr, "spaces[1]: id is required") {
			t.Errorf("%s: the missing id is not reported with the bad one: %q", name, r.stderr)
		}
	}
	if n := b.writeCount(); n != 0 {
		t.Errorf("apply sent changing requests for bad ids: %v", b.writesSince(0))
	}
}
