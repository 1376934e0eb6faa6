package audit

import (
	"encoding/binary"
	"encoding/hex"
)

// packed is one event as a Memory keeps it: a single pointer-free allocation, so that a
// retained event costs its bytes and little more, and the garbage collector never scans it.
// Its layout: for each text field in packedFields order, its length as a uvarint and its bytes;
// then Prev, as 0 for none, 1 and the 32 bytes of a lowercase hex SHA-256 (as Hash makes it), or
// 2 followed like the other fields by its length and bytes for any other value.
type packed []byte

// packedFields are the fields of an event, Prev excepted, in their packed order.
func packedFields(e *Event) [10]*string {
	return [...]*string{&e.ID, &e.Time, &e.Actor, &e.Action, &e.Space, &e.Stack, &e.Run,
		&e.Integration, &e.Outcome, &e.Detail}
}

// Prev encodings.
const (
	prevNone byte = iota
	prevHash
	prevText
)

// pack encodes e, in one allocation of exactly its size.
func pack(e Event) packed {
	fields := packedFields(&e)
	var sum [32]byte
	prev := prevText
	switch {
	case e.Prev == "":
		prev = prevNone
	case decodeHex(sum[:], e.Prev):
		prev = prevHash
	}
	n := 1
	for _, f := range fields {
		n += textSize(*f)
	}
	switch prev {
	case prevHash:
		n += len(sum)
	case prevText:
		n += textSize(e.Prev)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = appendText(b, *f)
	}
	b = append(b, prev)
	switch prev {
	case prevHash:
		b = append(b, sum[:]...)
	case prevText:
		b = appendText(b, e.Prev)
	}
	return packed(b)
}

// textSize is how many bytes appendText adds for s.
func textSize(s string) int {
	var buf [binary.MaxVarintLen64]byte
	return binary.PutUvarint(buf[:], uint64(len(s))) + len(s)
}

func appendText(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeHex decodes the hex digits s into dst, reporting whether s is hex of dst's length.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := hexValue(s[2*i])
		lo, ok2 := hexValue(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// event decodes p. Its text fields share one string allocation.
func (p packed) event() Event {
	var e Event
	all := string(p)
	rest := p
	pos := 0
	text := func() string {
		n, k := binary.Uvarint(rest)
		start := pos + k
		pos = start + int(n)
		rest = p[pos:]
		return all[start:pos]
	}
	for _, f := range packedFields(&e) {
		*f = text()
	}
	switch rest[0] {
	case prevHash:
		e.Prev = hex.EncodeToString(rest[1:33])
	case prevText:
		rest = rest[1:]
		pos++
		e.Prev = text()
	}
	return e
}
