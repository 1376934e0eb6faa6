package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Outcomes.
const (
	Success = "success"
	Denied  = "denied"
	Failed  = "error"
)

// Event is one audit record, exactly as GET /v1/audit returns it.
type Event struct {
	ID          string `json:"id"`
	Time        string `json:"time"`
	Actor       string `json:"actor"`
	Action      string `json:"action"`
	Space       string `json:"space"`
	Stack       string `json:"stack"`
	Run         string `json:"run"`
	Integration string `json:"integration"`
	Outcome     string `json:"outcome"`
	Detail      string `json:"detail"`
	Prev        string `json:"prev"`
}

// Hash is the lowercase hex SHA-256 of e's RFC 8785 canonical JSON: the Prev of the next event.
func Hash(e Event) (string, error) {
	var buf [1024]byte // most events fit, so hashing one allocates only its hex string
	canonical, err := appendCanonical(buf[:0], &e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:]), nil
}

// Canonical is e's RFC 8785 (JCS) form. Every field is a string, so it is the members in
// code-point order of their names, with JCS string escaping: '"', '\\' and control characters
// escaped (the short forms \b \f \n \r \t, else \u00xx), everything else literal UTF-8.
// A string that is not valid UTF-8 has no canonical form.
func Canonical(e Event) ([]byte, error) {
	return appendCanonical(make([]byte, 0, 512), &e)
}

// eventFieldNames are Event's JSON member names, sorted as the canonical form has them;
// fieldsOf and eventFields give the fields in this order.
var eventFieldNames = [11]string{"action", "actor", "detail", "id", "integration", "outcome", "prev", "run", "space", "stack", "time"}

// fieldsOf is e's fields with their values, in the order of eventFieldNames. It takes only the
// values, so that hashing an event leaves it on the stack.
func fieldsOf(e *Event) [11]struct{ name, value string } {
	values := [11]string{e.Action, e.Actor, e.Detail, e.ID, e.Integration, e.Outcome, e.Prev, e.Run, e.Space, e.Stack, e.Time}
	var out [11]struct{ name, value string }
	for i, v := range values {
		out[i].name, out[i].value = eventFieldNames[i], v
	}
	return out
}

// eventFields is e's fields by their names, in the order of eventFieldNames, to be set.
func eventFields(e *Event) [11]*string {
	return [11]*string{&e.Action, &e.Actor, &e.Detail, &e.ID, &e.Integration, &e.Outcome, &e.Prev, &e.Run, &e.Space, &e.Stack, &e.Time}
}

// CheckCanonical reports why e has no canonical form (a field that is not valid UTF-8), or
// nil: a store that groups appends checks each event with it first, so that one event without
// a hash fails alone.
func CheckCanonical(e Event) error {
	for _, f := range fieldsOf(&e) {
		if !utf8.ValidString(f.value) {
			return fmt.Errorf("event %q: field %s is not valid UTF-8", e.ID, f.name)
		}
	}
	return nil
}

// appendCanonical appends e's canonical form (Canonical) to b.
func appendCanonical(b []byte, e *Event) ([]byte, error) {
	fields := fieldsOf(e)
	b = append(b, '{')
	for i, f := range fields {
		if !utf8.ValidString(f.value) {
			return nil, fmt.Errorf("event %q: field %s is not valid UTF-8", e.ID, f.name)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJCSString(b, f.name)
		b = append(b, ':')
		b = appendJCSString(b, f.value)
	}
	return append(b, '}'), nil
}

// appendJCSString appends s as a JSON string in the canonical form the chain hashes: '"' and '\\'
// and the control characters escaped, the short forms where JSON has them, every other byte
// as it is. Runs of bytes that need no escape are appended whole.
func appendJCSString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
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
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ErrBroken is returned by Verify when a link of the chain does not hold.
var ErrBroken = errors.New("audit chain broken")

// Verify checks that each event's Prev is the hash of the one before it, for a contiguous run of
// the chain (the first event's Prev is not checked: it points before the run), and that every
// event, the last too, has a hash.
func Verify(events []Event) error {
	want := ""
	for i, e := range events {
		if i > 0 && e.Prev != want {
			return fmt.Errorf("%w at event %s (index %d): prev %q, want %q", ErrBroken, e.ID, i, e.Prev, want)
		}
		var err error
		if want, err = Hash(e); err != nil {
			return err
		}
	}
	return nil
}
