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
