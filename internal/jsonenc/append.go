package jsonenc

import (
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plainASCII holds the ASCII bytes String writes as they are: all but the control characters,
// '"', '\\', '<', '>' and '&'.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// String appends s as a JSON string exactly as encoding/json.Marshal writes a string: '"' and
// '\\' escaped, the control characters as \b \f \n \r \t or \u00xx, '<', '>' and '&' as \u00xx,
// U+2028 and U+2029 as \u2028 and \u2029, each byte of invalid UTF-8 as \ufffd, everything else
// literal.
func String(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Field appends `"name":` preceded by a comma unless b ends with '{'. name must need no
// escaping.
func Field(b []byte, name string) []byte {
	if len(b) > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// StringField appends the member name: s (see Field and String).
func StringField(b []byte, name, s string) []byte {
	return String(Field(b, name), s)
}

// IntField appends the member name: n.
func IntField(b []byte, name string, n int64) []byte {
	return strconv.AppendInt(Field(b, name), n, 10)
}

// TimeField appends the member name: t as encoding/json writes a time.Time (RFC 3339 with
// nanoseconds, quoted). A year outside 0-9999, or a zone offset of 24 hours or more, has no such
// form: ok is false, like Marshal's error.
func TimeField(b []byte, name string, t time.Time) (_ []byte, ok bool) {
	_, offset := t.Zone()
	if y := t.Year(); y < 0 || y > 9999 || offset <= -24*3600 || offset >= 24*3600 {
		return b, false
	}
	b = append(Field(b, name), '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}
