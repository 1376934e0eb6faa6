package textcut

import (
	"strings"
	"unicode"
)

// OneLine is s on one line: every run of white space (line breaks included) one space, no
// space at either end, and every other control character (ESC, BEL, backspace, DEL, C1) shown
// as U+FFFD, so that text from elsewhere (an upstream's error message) cannot rewrite the
// terminal or the log that shows it.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, strings.Join(strings.Fields(s), " "))
}
