package audit

import (
	"fmt"
	"strings"
	"testing"
)

// TestPackActorWithAnotherFourCharPrefix: An actor that is not "run:" + Run but has the same length
// and ends in the run id (another four-character prefix) must round-trip as written, not come back
// as "run:<run>". Guards against: codec.go isRunActor without the actorPrefix comparison.
func TestPackActorWithAnotherFourCharPrefix(t *testing.T) {
	var p packer
	for _, actor := range []string{"bot:01JD8ZQ6Y3K9V2W4X5T7R8P0MN", "key:01JD8ZQ6Y3K9V2W4X5T7R8P0MN", "RUN:01JD8ZQ6Y3K9V2W4X5T7R8P0MN"} {
		e := tokenEventAt("01JD8ZQ6Y3K9V2W4X5T7R8P0MN", "2026-12-01T10:00:00Z")
		e.Actor = actor
		if got := p.unpack(p.pack(nil, &e)); got != e {
			t.Errorf("actor %q came back as %q", actor, got.Actor)
		}
	}
}

// TestPackPrevLongerThanAHash: A Prev longer than a hash that starts with 64 lowercase hex digits
// is text, not a hash: it must round-trip whole. Guards against: compact.go decodeHex accepting a
// longer string.
func TestPackPrevLongerThanAHash(t *testing.T) {
	var p packer
	e := tokenEventAt("01JD8ZQ6Y3K9V2W4X5T7R8P0MN", "2026-12-01T10:00:00Z")
	e.Prev += "00"
	if got := p.unpack(p.pack(nil, &e)); got != e {
		t.Errorf("prev %q came back as %q", e.Prev, got.Prev)
	}
}

// TestMemoryTrimKeepsTheOldestEventsChunk: Events each filling a chunk: a trim that leaves the
// oldest retained event alone in its chunk must keep that chunk. Guards against: eventlog.go
// dropFront releasing the chunk of the first event kept (first <= dropped+1).
func TestMemoryTrimKeepsTheOldestEventsChunk(t *testing.T) {
	m := NewMemoryRetaining(2)
	for i := range 4 { // each event fills a chunk; the 4th append trims to the last 2
		e := Event{ID: fmt.Sprint("ev-", i), Detail: strings.Repeat("x", chunkSize)}
		if _, err := m.Append(t.Context(), e, []string{"root"}); err != nil {
			t.Fatal(err)
		}
	}
	evs, from, err := m.Range(t.Context(), 0, 10)
	if err != nil || from != 2 || len(evs) != 2 || evs[0].ID != "ev-2" || evs[1].ID != "ev-3" {
		t.Fatalf("Range(0) = %d events from %d, %v; want ev-2 and ev-3 from 2", len(evs), from, err)
	}
	listed, _, err := m.List(t.Context(), "root", "", 10)
	if err != nil || len(listed) != 2 || listed[0].ID != "ev-2" {
		t.Fatalf("List = %d events, %v", len(listed), err)
	}
}

// TestCheckCanonical: CheckCanonical names the field of an event that has no canonical form, and
// passes an event that has one. A Redis trail calls it before it queues an append, so that one bad
// event never fails the batch it would be sent with. Guards against: CheckCanonical returning nil,
// or skipping a field.
func TestCheckCanonical(t *testing.T) {
	good := tokenEventAt("01JD8ZQ6Y3K9V2W4X5T7R8P0MN", "2026-12-01T10:00:00Z")
	if err := CheckCanonical(good); err != nil {
		t.Fatalf("a valid event: %v", err)
	}
	for name, set := range map[string]func(*Event){
		"id": func(e *Event) { e.ID = "\xff" }, "time": func(e *Event) { e.Time = "\xff" },
		"actor": func(e *Event) { e.Actor = "\xff" }, "action": func(e *Event) { e.Action = "\xff" },
		"space": func(e *Event) { e.Space = "\xff" }, "stack": func(e *Event) { e.Stack = "\xff" },
		"run": func(e *Event) { e.Run = "\xff" }, "integration": func(e *Event) { e.Integration = "\xff" },
		"outcome": func(e *Event) { e.Outcome = "\xff" }, "detail": func(e *Event) { e.Detail = "\xff" },
		"prev": func(e *Event) { e.Prev = "\xff" },
	} {
		e := good
		set(&e)
		err := CheckCanonical(e)
		if err == nil || !strings.Contains(err.Error(), "field "+name+" ") {
			t.Errorf("field %s not valid UTF-8: CheckCanonical = %v, want an error naming it", name, err)
		}
		if _, herr := Hash(e); herr == nil {
			t.Errorf("field %s not valid UTF-8: Hash has no error", name)
		}
	}
}

// TestMemoryRetainsAtLeastOne: NewMemoryRetaining keeps at least one event, whatever n: a retention
// of 0 (or less) still lists the latest event. Guards against: store.go NewMemoryRetaining without
// max(n, 1).
func TestMemoryRetainsAtLeastOne(t *testing.T) {
	for _, n := range []int{0, -5} {
		m := NewMemoryRetaining(n)
		for i := range 5 {
			if _, err := m.Append(t.Context(), Event{ID: fmt.Sprint("ev-", i)}, []string{"root"}); err != nil {
				t.Fatal(err)
			}
		}
		evs, _, err := m.Range(t.Context(), 0, 10)
		if err != nil || len(evs) == 0 || evs[len(evs)-1].ID != "ev-4" {
			t.Errorf("retaining %d: Range = %v, %v; want at least the latest event", n, evs, err)
		}
		listed, _, err := m.List(t.Context(), "root", "", 10)
		if err != nil || len(listed) == 0 || listed[len(listed)-1].ID != "ev-4" {
			t.Errorf("retaining %d: List = %v, %v; want at least the latest event", n, listed, err)
		}
	}
}

// TestAppendCheckpointLeavesTheCallersSpaces: AppendCheckpoint adds CheckpointIndex to the spaces
// it indexes the event under without writing into the caller's slice, even when it has room to
// spare (a catalog's space path). Guards against: store.go AppendCheckpoint appending to spaces in
// place.
func TestAppendCheckpointLeavesTheCallersSpaces(t *testing.T) {
	m := NewMemory()
	backing := []string{"root", "untouched"}
	spaces := backing[:1] // length 1, capacity 2
	if _, ok, err := m.AppendCheckpoint(t.Context(), Event{ID: "cp", Action: CheckpointAction}, spaces, -1); !ok || err != nil {
		t.Fatalf("AppendCheckpoint = %v, %v", ok, err)
	}
	if backing[1] != "untouched" {
		t.Errorf("the caller's slice was written past its length: %q", backing)
	}
}

// TestMemoryHeldTrimsInBatches: While a sink holds it past the backlog, a Memory still trims in
// batches (a sixteenth of what it keeps), not on every append: appends stay amortized O(1) (each
// trim moves every kept event). Guards against: store.go appendLocked trimming once n > keep (no
// slack).
func TestMemoryHeldTrimsInBatches(t *testing.T) {
	const retain, backlog, appends = 4, 64, 400
	m := NewMemoryRetaining(retain)
	m.HoldFor(func() int64 { return 0 }, backlog) // a sink that never reads
	trims := 0
	for i := range appends {
		before := m.log.dropped
		if _, err := m.Append(t.Context(), Event{ID: fmt.Sprint(i)}, []string{"root"}); err != nil {
			t.Fatal(err)
		}
		if m.log.dropped != before {
			trims++
		}
	}
	// Past the backlog, a trim every slack(backlog)+1 = 5 appends at most.
	if most := (appends-backlog)/(slack(backlog)+1) + 2; trims > most {
		t.Errorf("held at its backlog of %d, the store trimmed %d times in %d appends, want at most %d", backlog, trims, appends, most)
	}
}
