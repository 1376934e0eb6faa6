package audit

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

// tokenEventAt is a token's event as the server builds it, with id and time as given.
func tokenEventAt(id, tm string) Event {
	const run = "01JD8ZQ6Y3K9V2W4X5T7R8P0MN"
	return Event{ID: id, Time: tm, Actor: "run:" + run, Action: "token.issue", Space: "team-a",
		Stack: "app-a", Run: run, Outcome: Success, Detail: "scope=write aud=sts.amazonaws.com jti=q2Qd6c1c9m0W0bM3pY5lVg",
		Prev: strings.Repeat("0123456789abcdef", 4)}
}

// packCases are events that must round-trip: each codec's matches and near misses.
func packCases() []struct {
	name string
	e    Event
} {
	full := tokenEventAt("01JD8ZQ6Y3K9V2W4X5T7R8P0MN", "2026-12-01T10:00:00.123456789Z")
	with := func(f func(*Event)) Event { e := full; f(&e); return e }
	return []struct {
		name string
		e    Event
	}{
		{"empty", Event{}},
		{"token event", full},
		{"one field only", Event{Detail: "d"}},
		{"lowercase ulid id", with(func(e *Event) { e.ID = strings.ToLower(e.ID) })},
		{"ulid id one char short", with(func(e *Event) { e.ID = e.ID[:25] })},
		{"ulid id one char long", with(func(e *Event) { e.ID += "0" })},
		{"ulid id with a non-Crockford char", with(func(e *Event) { e.ID = "01JD8ZQ6Y3K9V2W4X5T7R8P0MU" })},
		{"ulid id overflowing 128 bits", with(func(e *Event) { e.ID = "81JD8ZQ6Y3K9V2W4X5T7R8P0MN" })},
		{"largest ulid", with(func(e *Event) { e.ID = "7ZZZZZZZZZZZZZZZZZZZZZZZZZ" })},
		{"zero ulid", with(func(e *Event) { e.ID = "00000000000000000000000000" })},
		{"lowercase ulid run", with(func(e *Event) { e.Run = strings.ToLower(e.Run); e.Actor = "run:" + e.Run })},
		{"run not a ulid", with(func(e *Event) { e.Run = "run-1"; e.Actor = "run:run-1" })},
		{"time with +01:00 offset", with(func(e *Event) { e.Time = "2026-12-01T11:00:00.123456789+01:00" })},
		{"time with trailing zeros", with(func(e *Event) { e.Time = "2026-12-01T10:00:00.120Z" })},
		{"time with a zero fraction", with(func(e *Event) { e.Time = "2026-12-01T10:00:00.0Z" })},
		{"time without fraction", with(func(e *Event) { e.Time = "2026-12-01T10:00:00Z" })},
		{"time with a lowercase z", with(func(e *Event) { e.Time = "2026-12-01T10:00:00.5z" })},
		{"time with a comma", with(func(e *Event) { e.Time = "2026-12-01T10:00:00,5Z" })},
		{"time with a leap second", with(func(e *Event) { e.Time = "2026-12-31T23:59:60Z" })},
		{"time in year 0001", with(func(e *Event) { e.Time = "0001-01-01T00:00:00Z" })},
		{"time in year 0000", with(func(e *Event) { e.Time = "0000-01-01T00:00:00.000000001Z" })},
		{"time in year 9999", with(func(e *Event) { e.Time = "9999-12-31T23:59:59.999999999Z" })},
		{"time of another layout", with(func(e *Event) { e.Time = "2026-12-01 10:00:00Z" })},
		{"actor run: with empty run", with(func(e *Event) { e.Actor, e.Run = "run:", "" })},
		{"actor run:X with a different run", with(func(e *Event) { e.Actor = "run:01JD8ZQ6Y3K9V2W4X5T7R8P0MM" })},
		{"actor without the run: prefix", with(func(e *Event) { e.Actor = e.Run })},
		{"actor of a user", with(func(e *Event) { e.Actor = "user:alice" })},
		{"empty actor", with(func(e *Event) { e.Actor = "" })},
		{"upper-case hex prev is kept as written", with(func(e *Event) { e.Prev = strings.ToUpper(e.Prev) })},
		{"prev of another length", with(func(e *Event) { e.Prev = e.Prev[:63] })},
		{"prev not hex", with(func(e *Event) { e.Prev = "not a hash" })},
		{"long action, not a word", with(func(e *Event) { e.Action = strings.Repeat("a", maxWordLen+1) })},
		{"long detail (multi-byte length)", with(func(e *Event) { e.Detail = strings.Repeat("é\n\"", 300) })},
		{"token detail without a jti", with(func(e *Event) { e.Detail = "scope=write aud=sts.amazonaws.com" })},
		{"token detail that is a jti alone", with(func(e *Event) { e.Detail = " jti=q2Qd6c1c9m0W0bM3pY5lVg" })},
		{"token detail with two jti", with(func(e *Event) { e.Detail = "a jti=1 jti=2" })},
		{"token detail head too long for a word", with(func(e *Event) {
			e.Detail = "scope=read aud=" + strings.Repeat("x", maxWordLen) + " jti=j"
		})},
		{"a token's detail on another action", with(func(e *Event) { e.Action = "credentials.issue" })},
		{"token detail ending in its jti marker", with(func(e *Event) { e.Detail = "scope=read aud=a jti=" })},
		{"invalid UTF-8 everywhere", Event{ID: "\xff", Time: "\xfe", Actor: "run:\x80", Action: "\xc3",
			Space: "\x00", Stack: "\xff\xff", Run: "\x80", Integration: "\xed\xa0\x80", Outcome: "\xf8", Detail: "\xc0\xaf", Prev: "\xff"}},
	}
}

func TestPackRoundTrip(t *testing.T) {
	var p packer
	for _, tc := range packCases() {
		t.Run(tc.name, func(t *testing.T) {
			b := p.pack([]byte("before"), &tc.e)
			if string(b[:6]) != "before" {
				t.Fatalf("pack overwrote the bytes before it: %q", b[:6])
			}
			if got := p.unpack(b[6:]); got != tc.e {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tc.e)
			}
		})
	}
}

// A full word table leaves new values as text, and the values it holds still decode.
func TestPackWordTableFull(t *testing.T) {
	var p packer
	e := tokenEventAt(ulid.Make().String(), time.Now().UTC().Format(time.RFC3339Nano))
	first := p.pack(nil, &e)
	for i := range maxWords + 10 {
		other := e
		other.Space = fmt.Sprint("space-", i)
		if got := p.unpack(p.pack(nil, &other)); got != other {
			t.Fatalf("event %d: got %+v, want %+v", i, got, other)
		}
	}
	if len(p.words) != maxWords {
		t.Errorf("the word table holds %d values, want its bound %d", len(p.words), maxWords)
	}
	if got := p.unpack(first); got != e {
		t.Errorf("an event packed before the table filled: got %+v, want %+v", got, e)
	}
}

// A token's event, as the server builds it, packs into a few bytes more than its hash-sized
// and ULID fields.
func TestPackTokenEventSize(t *testing.T) {
	var p packer
	for range 3 {
		e := tokenEventAt(ulid.Make().String(), time.Now().UTC().Format(time.RFC3339Nano))
		b := p.pack(nil, &e)
		if got := p.unpack(b); got != e {
			t.Fatalf("round trip: got %+v, want %+v", got, e)
		}
		if len(b) > 112 {
			t.Errorf("a token event packs into %d bytes, want at most 112", len(b))
		}
	}
}

// FuzzPack checks that any event round-trips, packed when its words are new to the table and
// when they are already in it.
func FuzzPack(f *testing.F) {
	for _, tc := range packCases() {
		e := tc.e
		f.Add(e.ID, e.Time, e.Actor, e.Action, e.Space, e.Stack, e.Run, e.Integration, e.Outcome, e.Detail, e.Prev)
	}
	f.Fuzz(func(t *testing.T, id, tm, actor, action, space, stack, run, integration, outcome, detail, prev string) {
		e := Event{ID: id, Time: tm, Actor: actor, Action: action, Space: space, Stack: stack, Run: run,
			Integration: integration, Outcome: outcome, Detail: detail, Prev: prev}
		var p packer // a fresh table, so the word fields take their compact form when they can
		first := p.pack(nil, &e)
		again := p.pack(nil, &e) // packed with the words the first one added
		for _, b := range [][]byte{first, again} {
			if got := p.unpack(b); got != e {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
			}
		}
	})
}

// TestPackDetailHeadsLeaveRoom checks that token events' detail heads fill at most half of the
// word table, so that distinct audiences a run may name leave room for the catalog's names, and
// that a head the table holds is still packed as a word once that half is full.
func TestPackDetailHeadsLeaveRoom(t *testing.T) {
	var p packer
	e := tokenEventAt(ulid.Make().String(), time.Now().UTC().Format(time.RFC3339Nano))
	first := e
	p.pack(nil, &first)
	for i := range maxWords {
		other := e
		other.Detail = fmt.Sprintf("scope=read aud=aud-%d jti=j", i)
		if got := p.unpack(p.pack(nil, &other)); got != other {
			t.Fatalf("event %d: got %+v, want %+v", i, got, other)
		}
	}
	if len(p.words) > maxWords/2+1 {
		t.Errorf("the word table holds %d values after %d distinct heads, want at most %d",
			len(p.words), maxWords, maxWords/2+1)
	}
	if _, ok := p.word("a-space"); !ok {
		t.Error("no room left in the word table for a catalog name")
	}
	again := p.pack(nil, &first)
	if flags := uint16(again[0]) | uint16(again[1])<<8; flags&flagDetailHead == 0 {
		t.Error("a head the table holds is no longer packed as a word")
	}
}
