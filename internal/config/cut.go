package config

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/brokerhq/broker/internal/textcut"
)

// A problem quotes at most maxShown bytes of each value, and names at most maxShownPath bytes
// of its key path, saying when it cut them: a file can repeat one long value (or key) through
// its aliases, and every problem is logged and, on a refused reload, audited.
const (
	maxShown     = 128
	maxShownPath = 256
)

// newFieldError is the problem at path with the offending value, its message format applied to
// args. Logins written into URLs are redacted from both, before any long value is cut
// (cutArgs), so that a cut never leaves part of a password without the '@' that marks it.
func newFieldError(source string, line int, path, value, format string, args ...any) *FieldError {
	return &FieldError{
		Source: source,
		Line:   line,
		Path:   cutText(RedactLogins(path), maxShownPath), // a URL written as a key by mistake
		Value:  cutText(RedactLogins(value), maxShown),
		Msg:    RedactLogins(fmt.Sprintf(format, cutArgs(args)...)),
	}
}

// cutArgs is args with every string longer than maxShown, logins redacted, as a cutString.
func cutArgs(args []any) []any {
	var out []any
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > maxShown {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i] = cutString(RedactLogins(s))
		}
	}
	if out == nil {
		return args
	}
	return out
}

// cutString is a value a message quotes: formatted, it shows its first maxShown bytes, then
// how long it was.
type cutString string

// Format writes the first maxShown bytes of s (quoted for %q, in ASCII for %+q), then, when
// there were more, how many bytes s has.
func (s cutString) Format(f fmt.State, verb rune) {
	shown := cutText(string(s), maxShown)
	if verb == 'q' {
		quote := strconv.Quote
		if f.Flag('+') {
			quote = strconv.QuoteToASCII
		}
		shown = quote(textcut.Prefix(string(s), maxShown))
		if len(s) > maxShown {
			shown += fmt.Sprintf("... (cut: %d bytes in all)", len(s))
		}
	}
	_, _ = io.WriteString(f, shown)
}

// cutText is s, or its first most bytes followed by how long it was.
func cutText(s string, most int) string {
	if len(s) <= most {
		return s
	}
	return textcut.Prefix(s, most) + fmt.Sprintf("... (cut: %d bytes in all)", len(s))
}
