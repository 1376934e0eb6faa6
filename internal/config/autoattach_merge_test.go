package config

import "testing"

// TestAutoattachMergeReadWrite: the one automatic attachment an integration makes on a stack
// reads when any of its rules matching the stack reads and writes when any of them writes, and
// neither otherwise, whether the rules name different labels the stack carries or (in an
// integration an older build stored, which validation no longer takes) repeat one label.
func TestAutoattachMergeReadWrite(t *testing.T) {
	ro := func(label string) Autoattach { return Autoattach{Label: label, Read: true} }
	wo := func(label string) Autoattach { return Autoattach{Label: label, Write: true} }
	cases := []struct {
		name        string
		stackLabels []string
		rules       []Autoattach
		read, write bool
	}{
		{"two labels, read then read", []string{"a", "b"}, []Autoattach{ro("a"), ro("b")}, true, false},
		{"two labels, write then write", []string{"a", "b"}, []Autoattach{wo("a"), wo("b")}, false, true},
		{"two labels, read then write", []string{"a", "b"}, []Autoattach{ro("a"), wo("b")}, true, true},
		{"two labels, write then read", []string{"a", "b"}, []Autoattach{wo("a"), ro("b")}, true, true},
		{"one label twice, read then read", []string{"a"}, []Autoattach{ro("a"), ro("a")}, true, false},
		{"one label twice, write then write", []string{"a"}, []Autoattach{wo("a"), wo("a")}, false, true},
		{"one label twice, read then write", []string{"a"}, []Autoattach{ro("a"), wo("a")}, true, true},
		{"one label twice, write then read", []string{"a"}, []Autoattach{wo("a"), ro("a")}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Built directly, as an older build's stored objects are, without validation.
			c := autoObjects(1, tc.stackLabels, tc.rules)
			want := []EffectiveAttachment{{
				Attachment{Stack: "s-0", Integration: "aws", Read: tc.read, Write: tc.write},
				AutoattachSource("a"),
			}}
			if got := c.EffectiveAttachments(); !equal(got, want) {
				t.Errorf("EffectiveAttachments =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}
