package config

import "testing"

// TestSubtreeTemplateShare: root's share is the cap, each level below half its parent's, never
// less than one.
func TestSubtreeTemplateShare(t *testing.T) {
	for _, c := range []struct{ depth, want int }{
		{0, MaxSubjectTemplates}, {1, 50}, {2, 25}, {3, 12}, {4, 6}, {5, 3}, {6, 1}, {7, 1}, {1000, 1},
	} {
		if got := SubtreeTemplateShare(c.depth); got != c.want {
			t.Errorf("SubtreeTemplateShare(%d) = %d, want %d", c.depth, got, c.want)
		}
	}
}
