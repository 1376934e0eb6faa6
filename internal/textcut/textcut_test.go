package textcut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestPrefix: a text within the bound is kept whole; a longer one is cut at the bound, or before
// the character the bound falls inside, so the result is valid UTF-8 and never longer than the
// bound; a bound of 0 or less keeps nothing.
func TestPrefix(t *testing.T) {
	for _, tc := range []struct {
		s    string
		most int
		want string
	}{
		{"abc", 3, "abc"},
		{"abc", 5, "abc"},
		{"abcd", 3, "abc"},
		{"ab\u00e9", 3, "ab"},              // é is 2 bytes: the bound falls inside it
		{"ab\u00e9", 4, "ab\u00e9"},        // it fits whole
		{"a\u20ac", 2, "a"},                // € is 3 bytes
		{"a\u20ac", 3, "a"},                // still inside it
		{"a\U0001F600b", 5, "a\U0001F600"}, // a 4-byte character fits exactly
		{"\u00e9", 1, ""},
		{"abc", 0, ""},
		{"abc", -1, ""},
	} {
		got := Prefix(tc.s, tc.most)
		if got != tc.want || !utf8.ValidString(got) || len(got) > max(tc.most, 0) && got != tc.s {
			t.Errorf("Prefix(%q, %d) = %q, want %q", tc.s, tc.most, got, tc.want)
		}
	}
	long := strings.Repeat("\u00e9", 600)
	if got := Prefix(long, 1001); len(got) != 1000 || !utf8.ValidString(got) {
		t.Errorf("Prefix of %d bytes at 1001 = %d bytes", len(long), len(got))
	}
}

// TestOneLine: white space folds to single spaces, trimmed; other control characters show as
// U+FFFD; printable text, non-ASCII included, is kept.
func TestOneLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"  a \n\t b  ", "a b"},
		{"denied\x1b[1A\x07", "denied\ufffd[1A\ufffd"},
		{"x\u009b2J\b\x7f", "x\ufffd2J\ufffd\ufffd"},
		{"é ünïcode ✓", "é ünïcode ✓"},
		{"", ""},
	} {
		if got := OneLine(c.in); got != c.want {
			t.Errorf("OneLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
