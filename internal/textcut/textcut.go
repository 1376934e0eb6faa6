package textcut

import "unicode/utf8"

// Prefix is at most the first most bytes of s, ending before a character that would not fit
// whole: a capped text stays valid UTF-8 when s is.
func Prefix(s string, most int) string {
	if len(s) <= most {
		return s
	}
	most = max(most, 0)
	for most > 0 && !utf8.RuneStart(s[most]) {
		most--
	}
	return s[:most]
}
