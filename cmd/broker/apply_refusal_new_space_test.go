package main

import (
	"strings"
	"testing"
)

// TestApplyAfterARefusalMakesNewSpacesInPlace: a valid file moves space sub into q (refused 409
// in the main pass until the file's p2 is put), makes space n under sub and stack x in n. The
// new space goes in the main pass, before its stack, and the apply succeeds.
// Guards against: apply.go holding every space changed after a refused object back behind it
// (n held, x refused 404 and the valid file failed).
func TestApplyAfterARefusalMakesNewSpacesInPlace(t *testing.T) {
	b := startLive(t, liveFile(""))
	refusedSubMove(t, b)
	file := "spaces:\n  - {id: sub, parent: q, inherit: true}\n  - {id: n, parent: sub}\n" +
		"stacks:\n  - {id: x, space: n}\n" +
		"integrations:\n  - {id: p2, space: q, aws: {role_arn: \"arn:aws:iam::123456789012:role/p2\"}, autoattach: [{label: dns, read: true}]}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", file))
	t.Logf("apply exit %d\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 0 || strings.Contains(r.stdout, "failed") {
		t.Errorf("apply of a valid file failed: exit %d", r.code)
	}
}
