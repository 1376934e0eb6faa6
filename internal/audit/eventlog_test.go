package audit

import (
	"fmt"
	"strings"
	"testing"
)

// A Memory whose events span many chunks, some larger than a chunk, lists and ranges exactly the
// events it retains, in order and as a verifiable chain, and gives back the chunks it no longer
// needs.
func TestMemoryAcrossChunks(t *testing.T) {
	const retain, total = 300, 3000
	m := NewMemoryRetaining(retain)
	var all []Event
	for i := range total {
		e := tokenEventAt(fmt.Sprintf("01JD8ZQ6Y3K9V2W4X5T%07d", i), fmt.Sprintf("2026-12-01T10:00:%02d.%dZ", i%60, i+1))
		e.Prev = ""
		if i%97 == 0 { // now and then an event larger than a chunk
			e.Detail = strings.Repeat("x", chunkSize+i)
		}
		spaces := []string{"root"}
		if i%3 == 0 {
			spaces = append(spaces, "third")
		}
		got, err := m.Append(t.Context(), e, spaces)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got)
	}
	head, err := m.Head(t.Context())
	if err != nil || head.Count != total {
		t.Fatalf("Head = %+v, %v; want a count of %d", head, err, total)
	}
	evs, from, err := m.Range(t.Context(), 0, total)
	if err != nil || int(from)+len(evs) != total || len(evs) < retain || len(evs) > retain+retain/4 {
		t.Fatalf("Range(0) = %d events from %d, %v; want the last %d or a few more", len(evs), from, err, retain)
	}
	for i, e := range evs {
		if e != all[int(from)+i] {
			t.Fatalf("event %d: got %+v, want %+v", int(from)+i, e, all[int(from)+i])
		}
	}
	if err := Verify(evs); err != nil {
		t.Error(err)
	}
	var listed []Event
	for cursor, pages := "", 1; ; pages++ {
		page, next, err := m.List(t.Context(), "third", cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, page...)
		if next == "" {
			break
		}
		if pages > total {
			t.Fatalf("paging does not end: %d pages of %d events", pages, len(listed))
		}
		cursor = next
	}
	var want []Event
	for pos := int(from); pos < total; pos++ {
		if pos%3 == 0 {
			want = append(want, all[pos])
		}
	}
	if len(listed) != len(want) {
		t.Fatalf("listed %d events of space third, want %d", len(listed), len(want))
	}
	for i := range want {
		if listed[i] != want[i] {
			t.Fatalf("listed event %d: got %s, want %s", i, listed[i].ID, want[i].ID)
		}
	}
	// The retained events hold well under 100 KiB besides the large ones: a handful of chunks.
	if n := len(m.log.chunks); n > 16 {
		t.Errorf("the log keeps %d chunks for %d events", n, m.log.len())
	}
}

// Once full, a Memory holds its retention and at most a sixteenth more (at least one more).
func TestMemoryTrimSlack(t *testing.T) {
	for _, tc := range []struct{ retain, most int }{{1, 2}, {8, 9}, {16, 17}, {1600, 1700}} {
		m := NewMemoryRetaining(tc.retain)
		trims := 0
		for i := range 4*tc.retain + 10 {
			before := m.log.len()
			if _, err := m.Append(t.Context(), Event{ID: fmt.Sprint(i)}, []string{"root"}); err != nil {
				t.Fatal(err)
			}
			n := m.log.len()
			if n < before {
				trims++
			}
			if n > tc.most || (i >= tc.retain && n < tc.retain) {
				t.Fatalf("retaining %d, the store holds %d events after %d appends, want %d to %d",
					tc.retain, n, i+1, tc.retain, tc.most)
			}
			if got := len(m.bySpace["root"]); got != n {
				t.Fatalf("retaining %d, the index holds %d entries for %d events", tc.retain, got, n)
			}
		}
		if trims < 3 {
			t.Errorf("retaining %d, %d trims in %d appends", tc.retain, trims, 4*tc.retain+10)
		}
	}
}
