package main

import (
	"strings"
	"testing"
)

// TestApplyOwnTemplateWaitsForTheShareItTakesOver: broker apply puts a valid file in an order
// the broker accepts. In a subtree whose share of distinct subject templates is one, a file
// that takes space x's template away and gives space b one of its own must put x first; a
// stack of the file moving into b must not make b go first, where the broker refuses it.
func TestApplyOwnTemplateWaitsForTheShareItTakesOver(t *testing.T) {
	b := startLive(t, liveFile(""))
	parent := "root"
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5", "p"} {
		b.put(t, "/v1/spaces/"+id, `{"parent":"`+parent+`"}`)
		parent = id
	}
	b.put(t, "/v1/spaces/a", `{"parent":"p"}`)
	b.put(t, "/v1/spaces/x", `{"parent":"p","subjectTemplate":"x:{callerId}:{scope}"}`)
	b.put(t, "/v1/spaces/b", `{"parent":"p"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"a","labels":[]}`)
	file := "spaces:\n  - {id: x, parent: p}\n" +
		"  - {id: b, parent: p, subject_template: \"b:{callerId}:{scope}\"}\n" +
		"stacks:\n  - {id: vpc, space: b}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", file))
	if r.code != 0 || strings.Contains(r.stdout, "failed") {
		t.Errorf("apply of a valid file: %+v", r)
	}
}

// TestApplyOwnTemplateWaitsForASpaceMovingOut: broker apply puts a valid file in an order the
// broker accepts. In a subtree whose share of distinct subject templates is one, a file that
// moves space x (with a template of its own) out of it and gives space b a template must move
// x first; a stack of the file moving into b must not make b go first, where the broker
// refuses it.
func TestApplyOwnTemplateWaitsForASpaceMovingOut(t *testing.T) {
	b := startLive(t, liveFile(""))
	parent := "root"
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5", "p"} {
		b.put(t, "/v1/spaces/"+id, `{"parent":"`+parent+`"}`)
		parent = id
	}
	b.put(t, "/v1/spaces/a", `{"parent":"p"}`)
	b.put(t, "/v1/spaces/x", `{"parent":"p","subjectTemplate":"x:{callerId}:{scope}"}`)
	b.put(t, "/v1/spaces/b", `{"parent":"p"}`)
	b.put(t, "/v1/stacks/vpc", `{"space":"a","labels":[]}`)
	file := "spaces:\n" +
		"  - {id: x, parent: s4, subject_template: \"x:{callerId}:{scope}\"}\n" +
		"  - {id: b, parent: p, subject_template: \"b:{callerId}:{scope}\"}\n" +
		"stacks:\n  - {id: vpc, space: b}\n"
	r := b.cli(t, liveAdmin, "apply", "-f", writeFile(t, "file.yaml", file))
	if r.code != 0 || strings.Contains(r.stdout, "failed") {
		t.Errorf("apply of a valid file: %+v", r)
	}
}
