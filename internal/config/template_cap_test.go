package config

import (
	"fmt"
	"strings"
	"testing"
)

// templateSpaces is a validator of a catalog with n spaces under one leaf, each with a subject
// template of its own whose literal ends tell it from no other (they start and end with a
// placeholder), as one tenant's space:admin could create them through PUT /v1/spaces.
func templateSpaces(n int) *validator {
	c := &Config{Spaces: []Space{{ID: "root"}, {ID: "leaf", Parent: "root"}}}
	for i := range n {
		c.Spaces = append(c.Spaces, Space{ID: fmt.Sprintf("s%d", i), Parent: "leaf",
			SubjectTemplate: fmt.Sprintf("{spacePath}:{callerId}:t%d:{scope}", i)})
	}
	v := &validator{c: c, spaces: map[string]int{}}
	for i, s := range c.Spaces {
		v.spaces[s.ID] = i
	}
	return v
}

// TestSubjectTemplatesCapped: a catalog holds at most MaxSubjectTemplates distinct templates (the
// default, used by root and leaf, counts as one); one more is refused naming its space, and its
// pairs are not compared.
func TestSubjectTemplatesCapped(t *testing.T) {
	v := templateSpaces(MaxSubjectTemplates - 1)
	v.checkTemplateOverlaps()
	if len(v.errs) != 0 {
		t.Fatalf("%d distinct templates: %v", MaxSubjectTemplates, v.errs[0])
	}
	v = templateSpaces(MaxSubjectTemplates + 300)
	v.checkTemplateOverlaps()
	want := fmt.Sprintf("spaces[%d].subject_template", MaxSubjectTemplates+1)
	if len(v.errs) != 1 || v.errs[0].Path != want || !strings.Contains(v.errs[0].Msg, "at most 100 distinct subject templates") {
		t.Errorf("%d distinct templates: %v, want one problem at %s", MaxSubjectTemplates+301, v.errs, want)
	}
}

// BenchmarkTemplateOverlapsAtCap is one catalog validation's template check at the cap, its answers
// remembered from the validation before, as every change through the API pays it.
func BenchmarkTemplateOverlapsAtCap(b *testing.B) {
	v := templateSpaces(MaxSubjectTemplates - 1)
	v.checkTemplateOverlaps()
	for b.Loop() {
		v.errs = nil
		v.checkTemplateOverlaps()
	}
}
