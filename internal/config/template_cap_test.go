package config

import (
	"fmt"
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
