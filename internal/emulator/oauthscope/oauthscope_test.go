package oauthscope

import (
	"slices"
	"testing"
)

// TestSplit: a scope parameter splits at spaces alone; other white space stays in its token.
func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a b", []string{"a", "b"}},
		{"  a   b ", []string{"a", "b"}},
		{"a\tb", []string{"a\tb"}},
		{"a\nb c", []string{"a\nb", "c"}},
		{"a\u00a0b", []string{"a\u00a0b"}},
		{"", nil},
	} {
		if got := Split(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
