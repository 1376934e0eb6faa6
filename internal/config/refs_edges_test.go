package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAttachmentSlotConflicts: a stack has at most one read and one write attachment per
// provider; a second one is a Conflict (the API's 409), for write as for read.
func TestAttachmentSlotConflicts(t *testing.T) {
	const objs = "stacks: [{id: s, space: root}]\nintegrations:\n" +
		"  - {id: a1, space: root, aws: {role_arn: \"arn:aws:iam::123456789012:role/a1\"}}\n" +
		"  - {id: a2, space: root, aws: {role_arn: \"arn:aws:iam::123456789012:role/a2\"}}\n"
	for _, scope := range []string{"read", "write"} {
		doc := edgeIssuer + objs + "attachments:\n" +
			"  - {stack: s, integration: a1, " + scope + ": true}\n" +
			"  - {stack: s, integration: a2, " + scope + ": true}\n"
		err := parseText(doc)
		fe := problemAt(err, "attachments[1]."+scope)
		if fe == nil {
			t.Errorf("two %s attachments for aws accepted: %v", scope, err)
			continue
		}
		if !fe.Conflict || fe.Missing {
			t.Errorf("two %s attachments: Conflict %v, Missing %v; want a conflict", scope, fe.Conflict, fe.Missing)
		}
	}
}

// TestEmptyReferenceIsRequired: an empty reference is a missing field (400), not a reference
// to an object that does not exist (404).
func TestEmptyReferenceIsRequired(t *testing.T) {
	err := parseText(edgeIssuer + "stacks: [{id: s}]\n")
	fe := problemAt(err, "stacks[0].space")
	if fe == nil {
		t.Fatalf("stack without a space accepted: %v", err)
	}
	if fe.Missing || !strings.Contains(fe.Msg, "required") {
		t.Errorf("stack without a space: %q, Missing %v; want \"required\", not Missing", fe.Msg, fe.Missing)
	}
}

// TestDepthIsAFileRule: ValidateObjects leaves the depth bound to the API's check of each
// change (a store may hold deeper trees); Validate holds the file to it.
func TestDepthIsAFileRule(t *testing.T) {
	c := &Config{Issuer: "https://broker.example.com", Spaces: []Space{{ID: RootSpace}}}
	parent := RootSpace
	for i := range MaxSpaceDepth { // root plus 32: the deepest is 33 levels deep
		id := "d" + strings.Repeat("x", i)
		c.Spaces = append(c.Spaces, Space{ID: id, Parent: parent})
		parent = id
	}
	c.ApplyDefaults()
	if err := c.ValidateObjects(); err != nil {
		t.Errorf("ValidateObjects refused a deep tree: %v", err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("Validate accepted a tree deeper than %d: %v", MaxSpaceDepth, err)
	}
}

// TestInheritCycleEnds: validation of spaces whose parents form a cycle, all inheriting,
// ends (reporting the cycle) even when a stack in the cycle has an attachment.
func TestInheritCycleEnds(t *testing.T) {
	doc := edgeIssuer + "spaces:\n  - {id: a, parent: b, inherit: true}\n  - {id: b, parent: a, inherit: true}\n" +
		"stacks: [{id: s, space: a}]\n" +
		"integrations: [{id: i, space: root, aws: {role_arn: \"arn:aws:iam::123456789012:role/r\"}}]\n" +
		"attachments: [{stack: s, integration: i, read: true}]\n"
	done := make(chan error, 1)
	go func() { done <- parseText(doc) }()
	select {
	case err := <-done:
		var es Errors
		if !errors.As(err, &es) || !strings.Contains(err.Error(), "parent cycle") {
			t.Errorf("want the cycle reported, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("validation of an inheriting parent cycle does not end")
	}
}

// TestAttachmentToMissingObject pins that an attachment naming a stack or integration that
// does not exist gets exactly one problem, the missing reference, and is checked no further: it
// never crashes when there is no stack at all, nor borrows another object's space.
// Guards against: `!okStack || !okInt` turned into `&&` in validate_refs.go:checkAttachments
func TestAttachmentToMissingObject(t *testing.T) {
	const it = "integrations:\n  - id: it\n    space: root\n    aws: {role_arn: \"arn:aws:iam::123456789012:role/r\"}\n"
	const dev = "spaces:\n  - id: dev\n    parent: root\n"
	for _, c := range []struct{ name, yaml, path string }{
		{"no stack at all", it + "attachments:\n  - {stack: ghost, integration: it, read: true}\n", "attachments[0].stack"},
		{"another stack, in a space that cannot use the integration", dev + it +
			"stacks:\n  - {id: s1, space: dev}\nattachments:\n  - {stack: ghost, integration: it, read: true}\n", "attachments[0].stack"},
		{"missing integration", dev + it +
			"stacks:\n  - {id: s1, space: dev}\nattachments:\n  - {stack: s1, integration: ghost, read: true}\n", "attachments[0].integration"},
	} {
		err := parseText(edgeIssuer + c.yaml)
		var es Errors
		if !errors.As(err, &es) || len(es) != 1 || es[0].Path != c.path || !es[0].Missing {
			t.Errorf("%s: want only a missing reference at %s, got %v", c.name, c.path, err)
		}
	}
}

// TestOneIntegrationHoldsItsOwnSlot pins that an integration meeting a stack twice (a direct
// attachment and an autoattach rule, or two of its rules on two labels of the stack) is no
// conflict: the one-read-one-write rule is about two integrations of a provider.
// Guards against: conflict on any taken slot, same integration or not, in
// validate_autoattach.go:checkAutoattach
func TestOneIntegrationHoldsItsOwnSlot(t *testing.T) {
	const base = "stacks:\n  - {id: s1, space: root, labels: [team, dns]}\n" +
		"integrations:\n  - id: it\n    space: root\n    aws: {role_arn: \"arn:aws:iam::123456789012:role/r\"}\n" +
		"    autoattach:\n      - {label: team, read: true, write: true}\n"
	checkEdges(t, []edgeCase{
		{"direct and automatic", base + "attachments:\n  - {stack: s1, integration: it, read: true, write: true}\n", ""},
		{"two labels of one stack", base + "      - {label: dns, read: true}\n", ""},
	})
}

// TestDuplicateSpaceReportedOnce pins that a space repeating an earlier id gets the
// duplicate problem only, not the problems of its other fields.
// Guards against: skip of duplicates removed in validate_refs.go:checkSpaces
func TestDuplicateSpaceReportedOnce(t *testing.T) {
	err := parseText(edgeIssuer + "spaces:\n  - id: a\n    parent: root\n  - id: a\n")
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].Path != "spaces[1].id" {
		t.Fatalf("want only the duplicate id at spaces[1].id, got %v", err)
	}
}
