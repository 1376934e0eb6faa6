package main

import (
	"strings"
	"testing"
)

// TestAPIKeysCreateRefusesABadBindingBeforeAnyRequest: as for --id, a --bind whose role or
// space breaks the id rule is a usage error (exit 2) refused before any request, without being
// repeated: it may be a secret pasted in the wrong place, and the broker's answer (and its
// logs) would repeat it.
func TestAPIKeysCreateRefusesABadBindingBeforeAnyRequest(t *testing.T) {
	cases := []struct{ name, bind string }{
		{"space", "admin@" + pastedSecret},
		{"role", pastedSecret + "@root"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			r := b.cli(t, liveAdmin, "api-keys", "create", "--id", "ci", "--bind", tc.bind)
			if r.code != exitUsage {
				t.Errorf("exit %d, want 2: %+v", r.code, r)
			}
			if strings.Contains(r.stdout+r.stderr, pastedSecret[:12]) {
				t.Errorf("the binding is repeated: %+v", r)
			}
			if n := b.writeCount(); n != 0 {
				t.Errorf("the binding reached the broker: %v", b.writesSince(0))
			}
		})
	}
}

// TestApplyRefusesABadReferenceBeforeAnyChange: as for the objects' own ids, apply refuses
// a file whose reference to another object (a space's parent, a stack's or an integration's
// space) breaks the id rule before any changing request, and does not repeat it.
func TestApplyRefusesABadReferenceBeforeAnyChange(t *testing.T) {
	files := map[string]string{
		"parent":      "spaces:\n  - {id: prod, parent: " + pastedSecret + "}\n",
		"stack space": "stacks:\n  - {id: vpc, space: " + pastedSecret + "}\n",
		"integration space": "integrations:\n  - {id: aws-a, space: " + pastedSecret +
			", aws: {role_arn: \"arn:aws:iam::123456789012:role/a\"}}\n",
	}
	for name, text := range files {
		t.Run(name, func(t *testing.T) {
			b := startLive(t, liveFile(""))
			r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "bad.yaml", text))
			if r.code == 0 || strings.Contains(r.stdout+r.stderr, pastedSecret[:12]) {
				t.Errorf("apply repeated the bad reference or took it: %+v", r)
			}
			if n := b.writeCount(); n != 0 {
				t.Errorf("apply sent changing requests for a bad reference: %v", b.writesSince(0))
			}
		})
	}
}
