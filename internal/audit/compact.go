package audit

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// A packed event is one event as a Memory keeps it: pointer-free bytes, so that a retained event
// costs its bytes and little more, and the garbage collector never scans it. Its layout:
//
//   - a header: 2 bytes (little-endian) of flags saying which form each field takes;
//   - ID: the 16 bytes of a ULID (flagIDULID), else text;
//   - Time: Unix seconds as a varint and 4 bytes of nanoseconds (flagTime), else text;
//   - Run: the 16 bytes of a ULID (flagRunULID), else text;
//   - Actor: nothing when it is "run:" followed by Run (flagActorRun), else text;
//   - Action, Space, Stack, Integration, Outcome: one byte, the index of a word of the
//     packer's table (their flag of flagWord), else text;
//   - Detail: for a token's event (Action "token.issue"), whose detail is a head that repeats
//     across events ("scope=write aud=sts.amazonaws.com") and the token's " jti=<jti>", the
//     head as one byte, the index of a word of the packer's table, and the rest as text
//     (flagDetailHead); else text;
//   - Prev: nothing when empty, 32 bytes for a lowercase hex SHA-256 as Hash makes it
//     (flagPrevHash), else text (flagPrevText).
//
// Text is its length as a uvarint and its bytes. Each compact form is used only when decoding
// it gives back the identical string (codec.go), so any event round-trips, whatever its strings.

// Header flags of a packed event.
const (
	flagIDULID uint16 = 1 << iota
	flagTime
	flagRunULID
	flagActorRun
	flagPrevHash
	flagPrevText
	flagWord // first of the flags of wordFields, one bit each in their order
)

// numWordFields is how many fields wordFields gives.
const numWordFields = 5

// flagDetailHead follows the flags of wordFields: the Detail's head is a word.
const flagDetailHead = flagWord << numWordFields

// tokenIssue is the action of the events whose Detail may be packed as a head and the rest:
// "scope=<scope> aud=<aud>" repeats across a token's events, its " jti=<jti>" never does.
const tokenIssue = "token.issue"

// detailHead splits detail into its head, up to its last " jti=", and the rest; ok is false
// when it holds no " jti=".
func detailHead(detail string) (head, rest string, ok bool) {
	i := strings.LastIndex(detail, " jti=")
	if i <= 0 {
		return "", "", false
	}
	return detail[:i], detail[i:], true
}

// wordFields are the fields whose values repeat across events (a few actions, outcomes, spaces,
// stacks and integrations): they may be stored as an index into the packer's word table.
func wordFields(e *Event) [numWordFields]*string {
	return [...]*string{&e.Action, &e.Space, &e.Stack, &e.Integration, &e.Outcome}
}

// Bounds of a packer's word table: it holds at most maxWords values (an index is one byte) of
// at most maxWordLen bytes each, the first ones seen, so it stays small whatever the events.
const (
	maxWords   = 256
	maxWordLen = 64
)

// packer packs and unpacks events. Its word table only grows, so an event it packed always
// unpacks. It is not safe for concurrent use.
type packer struct {
	words     []string
	wordIndex map[string]uint8
}

// word returns the index of s in the table, adding s if there is room; ok is false for a value
// the table does not hold (empty, too long, or the table is full).
func (p *packer) word(s string) (i uint8, ok bool) {
	if s == "" || len(s) > maxWordLen {
		return 0, false
	}
	if i, ok := p.wordIndex[s]; ok {
		return i, true
	}
	if len(p.words) == maxWords {
		return 0, false
	}
	if p.wordIndex == nil {
		p.wordIndex = map[string]uint8{}
	}
	i = uint8(len(p.words))
	s = strings.Clone(s) // never keep a larger string alive through a substring
	p.words = append(p.words, s)
	p.wordIndex[s] = i
	return i, true
}

// holds reports whether s is in the table.
func (p *packer) holds(s string) bool {
	_, ok := p.wordIndex[s]
	return ok
}

// pack appends e packed to b.
func (p *packer) pack(b []byte, e *Event) []byte {
	at := len(b)
	b = append(b, 0, 0) // the header, set below
	var flags uint16
	var ok bool
	if b, ok = appendULID(b, e.ID); ok {
		flags |= flagIDULID
	} else {
		b = appendText(b, e.ID)
	}
	if b, ok = appendTime(b, e.Time); ok {
		flags |= flagTime
	} else {
		b = appendText(b, e.Time)
	}
	if b, ok = appendULID(b, e.Run); ok {
		flags |= flagRunULID
	} else {
		b = appendText(b, e.Run)
	}
	if isRunActor(e.Actor, e.Run) {
		flags |= flagActorRun
	} else {
		b = appendText(b, e.Actor)
	}
	for k, f := range wordFields(e) {
		if i, ok := p.word(*f); ok {
			flags |= flagWord << k
			b = append(b, i)
		} else {
			b = appendText(b, *f)
		}
	}
	b = p.appendDetail(b, e, &flags)
	var sum [32]byte
	switch {
	case e.Prev == "":
	case decodeHex(sum[:], e.Prev):
		flags |= flagPrevHash
		b = append(b, sum[:]...)
	default:
		flags |= flagPrevText
		b = appendText(b, e.Prev)
	}
	binary.LittleEndian.PutUint16(b[at:], flags)
	return b
}

// appendDetail appends e's Detail: its head as a word and the rest as text when e is a
// token's event whose head the table holds (setting flagDetailHead in flags), else as text.
func (p *packer) appendDetail(b []byte, e *Event, flags *uint16) []byte {
	if e.Action == tokenIssue {
		// A head joins the table only while it is at most half full: a run names its audience,
		// and distinct audiences must not take the room of the catalog's names.
		if head, rest, ok := detailHead(e.Detail); ok && (len(p.words) < maxWords/2 || p.holds(head)) {
			if i, ok := p.word(head); ok {
				*flags |= flagDetailHead
				return appendText(append(b, i), rest)
			}
		}
	}
	return appendText(b, e.Detail)
}

func appendText(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeHex decodes the hex digits s into dst, reporting whether s is lowercase hex of dst's
// length.
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

// hexValue is the value of c, a lower-case hex digit; false for any other byte.
func hexValue(c byte) (byte, bool) {
	v := hexValues[c]
	return v, v != notHex
}

// notHex marks, in hexValues, a byte that is no lower-case hex digit.
const notHex = 0xff

// hexValues maps each byte to its value as a lower-case hex digit, or notHex.
var hexValues = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		default:
			t[c] = notHex
		}
	}
	return t
}()

// span is where a decoded field lies in the text being rebuilt.
type span struct{ start, end int }

// unpack decodes the event packed at the start of b. Its text fields share one string
// allocation; the word fields are the table's strings.
func (p *packer) unpack(b []byte) Event {
	flags := binary.LittleEndian.Uint16(b)
	b = b[2:]
	var buf [512]byte // most events' text fits, so decoding one allocates only its string
	t := buf[:0]
	// text copies a text field from b to t.
	text := func() span {
		n, k := binary.Uvarint(b)
		start := len(t)
		t = append(t, b[k:k+int(n)]...)
		b = b[k+int(n):]
		return span{start, len(t)}
	}
	// ulidOrText copies a field stored as a ULID's 16 bytes when flag is set, as text otherwise.
	ulidOrText := func(flag uint16) span {
		if flags&flag == 0 {
			return text()
		}
		start := len(t)
		t, b = ulidText(t, b[:16]), b[16:]
		return span{start, len(t)}
	}
	var tm, actor, detail, prev span
	id := ulidOrText(flagIDULID)
	if flags&flagTime != 0 {
		tm.start = len(t)
		t, b = timeText(t, b)
		tm.end = len(t)
	} else {
		tm = text()
	}
	if flags&flagActorRun != 0 { // the actor is "run:" and the run: write them as one
		actor.start, t = len(t), append(t, actorPrefix...)
	}
	run := ulidOrText(flagRunULID)
	if flags&flagActorRun != 0 {
		actor.end = run.end
	} else {
		actor = text()
	}
	var e Event
	var wordSpans [numWordFields]span
	for k, f := range wordFields(&e) {
		if flags&(flagWord<<k) != 0 {
			*f, b = p.words[b[0]], b[1:]
		} else {
			wordSpans[k] = text()
		}
	}
	if flags&flagDetailHead != 0 {
		detail.start, t = len(t), append(t, p.words[b[0]]...)
		b = b[1:]
		detail.end = text().end
	} else {
		detail = text()
	}
	switch {
	case flags&flagPrevHash != 0:
		prev.start, t = len(t), hex.AppendEncode(t, b[:32])
		prev.end = len(t)
	case flags&flagPrevText != 0:
		prev = text()
	}
	all := string(t)
	field := func(s span) string { return all[s.start:s.end] }
	e.ID, e.Time, e.Run, e.Actor, e.Detail, e.Prev = field(id), field(tm), field(run), field(actor), field(detail), field(prev)
	for k, f := range wordFields(&e) {
		if flags&(flagWord<<k) == 0 {
			*f = field(wordSpans[k])
		}
	}
	return e
}
