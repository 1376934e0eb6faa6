package audit

import (
	"encoding/binary"
	"time"

	"github.com/oklog/ulid/v2"
)

// The field codecs below store a value in a compact form only when decoding that form gives back
// the identical string; any other value is kept as text, so every string round-trips.

// appendULID appends the 16 bytes of s when s is a ULID in its canonical text (26 upper-case
// Crockford base32 characters), reporting whether it did.
func appendULID(b []byte, s string) ([]byte, bool) {
	if len(s) != ulid.EncodedSize {
		return b, false
	}
	id, err := ulid.ParseStrict(s)
	if err != nil {
		return b, false
	}
	var text [ulid.EncodedSize]byte
	if id.MarshalTextTo(text[:]) != nil || string(text[:]) != s {
		return b, false
	}
	return append(b, id[:]...), true
}

// ulidText appends the canonical text of the 16-byte ULID id to b.
func ulidText(b []byte, id []byte) []byte {
	var text [ulid.EncodedSize]byte
	_ = ulid.ULID(id).MarshalTextTo(text[:]) // the buffer has the encoded size: it cannot fail
	return append(b, text[:]...)
}

// maxTimeText is the longest time.RFC3339Nano text of a UTC time of years 0000 to 9999.
const maxTimeText = len("2006-01-02T15:04:05.999999999Z")

// appendTime appends s as its Unix seconds (a varint) and nanoseconds (4 bytes) when s is a time
// exactly as time.Time.UTC().Format(time.RFC3339Nano) writes it, reporting whether it did.
func appendTime(b []byte, s string) ([]byte, bool) {
	if len(s) < len("2006-01-02T15:04:05Z") || len(s) > maxTimeText || s[len(s)-1] != 'Z' {
		return b, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return b, false
	}
	var text [maxTimeText]byte
	if string(t.UTC().AppendFormat(text[:0], time.RFC3339Nano)) != s {
		return b, false
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond())), true
}

// timeText decodes a time appendTime wrote at the start of p, appends its text to b, and returns
// the rest of p.
func timeText(b, p []byte) ([]byte, []byte) {
	sec, n := binary.Varint(p)
	nsec := binary.LittleEndian.Uint32(p[n:])
	return time.Unix(sec, int64(nsec)).UTC().AppendFormat(b, time.RFC3339Nano), p[n+4:]
}

// actorPrefix starts the actor of an event done by a run: the prefix and the run's id.
const actorPrefix = "run:"

// isRunActor reports whether actor is actorPrefix followed by run.
func isRunActor(actor, run string) bool {
	return len(actor) == len(actorPrefix)+len(run) && actor[:len(actorPrefix)] == actorPrefix &&
		actor[len(actorPrefix):] == run
}
