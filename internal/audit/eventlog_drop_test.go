package audit

import (
	"bytes"
	"slices"
	"testing"
)

// positionRecord returns n bytes naming position pos, so that a record read back shows whose it is.
func positionRecord(pos, n int) []byte {
	b := bytes.Repeat([]byte{byte(pos)}, n)
	b[0] = byte(pos >> 8)
	return b
}

// TestEventLogDropFrontReleasesChunks: dropping the oldest events of an event log keeps
// only the chunks that still hold a retained event (a chunk starting exactly at the first
// retained position is kept, the ones before it go), leaves no reference to a dropped chunk in
// the chunk slice's spare capacity, moves the offsets in place, and every retained position
// still reads back its own record (the last one exactly).
// Guards against: dropFront keeping the chunk before one that starts exactly at the first
// retained position (< for <=); dropFront not clearing the released slots (or clearing one too
// few).
// Guards against: dropFront reslicing the offsets instead of moving them in place; dropFront
// stopping a chunk early (k+2 < len); append opening a new chunk when a record fits exactly
// (<= len(p)).
func TestEventLogDropFrontReleasesChunks(t *testing.T) {
	const size = chunkSize / 4 // four records fill a chunk exactly
	tests := []struct {
		drops     []int // successive dropFront counts
		wantFirst []int // the chunks' first positions after the drops
	}{
		{[]int{4}, []int{4, 8}},
		{[]int{3}, []int{0, 4, 8}},
		{[]int{5}, []int{4, 8}},
		{[]int{8}, []int{8}},
		{[]int{4, 4}, []int{8}},
		{[]int{1, 3}, []int{4, 8}},
		{[]int{9}, []int{8}},
	}
	for _, tc := range tests {
		var l eventLog
		const total = 12
		for pos := range total {
			l.append(positionRecord(pos, size))
		}
		if len(l.chunks) != 3 {
			t.Fatalf("%d records of a quarter chunk fill %d chunks, want 3", total, len(l.chunks))
		}
		offsCap := cap(l.offs)
		for _, n := range tc.drops {
			l.dropFront(n)
		}
		var first []int
		for _, c := range l.chunks {
			first = append(first, c.first)
		}
		if !slices.Equal(first, tc.wantFirst) {
			t.Errorf("drops %v: chunks start at %v, want %v", tc.drops, first, tc.wantFirst)
		}
		for i, c := range l.chunks[len(l.chunks):cap(l.chunks)] {
			if c.data != nil {
				t.Errorf("drops %v: spare chunk slot %d still holds a dropped chunk", tc.drops, i)
			}
		}
		if cap(l.offs) != offsCap {
			t.Errorf("drops %v: offsets capacity %d, was %d: not moved in place",
				tc.drops, cap(l.offs), offsCap)
		}
		for pos := l.dropped; pos < l.end(); pos++ {
			got := l.at(pos)
			if !bytes.HasPrefix(got, positionRecord(pos, size)) {
				t.Fatalf("drops %v: position %d reads another record", tc.drops, pos)
			}
			if pos == l.end()-1 && len(got) != size {
				t.Errorf("drops %v: the last record reads %d bytes, want %d", tc.drops, len(got), size)
			}
		}
	}
}
