package audit

import "sort"

// chunkSize is the capacity of a chunk of packed events: one allocation holds about a hundred
// token events, so a retained event carries no allocation of its own.
const chunkSize = 16 << 10

// chunk holds packed events back to back.
type chunk struct {
	data  []byte // never grows past its capacity, so the events in it never move
	first int    // the position of its first event
}

// eventLog is a Memory's retained events, packed back to back into shared chunks. Positions are
// absolute: the first retained event is at dropped.
type eventLog struct {
	chunks  []chunk  // oldest first; each holds at least one event
	offs    []uint32 // offs[i] is where the event at dropped+i starts in its chunk
	dropped int      // how many events were dropped from the front
}

// len is how many events the log holds.
func (l *eventLog) len() int { return len(l.offs) }

// end is the position after the last event.
func (l *eventLog) end() int { return l.dropped + len(l.offs) }

// append adds the packed event p at the end, copying it.
func (l *eventLog) append(p []byte) {
	n := len(l.chunks)
	if n == 0 || cap(l.chunks[n-1].data)-len(l.chunks[n-1].data) < len(p) {
		l.chunks = append(l.chunks, chunk{data: make([]byte, 0, max(chunkSize, len(p))), first: l.end()})
		n++
	}
	c := &l.chunks[n-1]
	l.offs = append(l.offs, uint32(len(c.data)))
	c.data = append(c.data, p...)
}

// at returns the bytes starting with the packed event at position pos (dropped <= pos < end);
// for the last event they are exactly its own.
func (l *eventLog) at(pos int) []byte {
	k := sort.Search(len(l.chunks), func(k int) bool { return l.chunks[k].first > pos }) - 1
	return l.chunks[k].data[l.offs[pos-l.dropped]:]
}

// dropFront drops the n oldest events (n < len), releasing the chunks that hold none of the
// others. It moves the rest in place, so the log keeps its memory instead of reallocating it.
func (l *eventLog) dropFront(n int) {
	copy(l.offs, l.offs[n:])
	l.offs = l.offs[:len(l.offs)-n]
	l.dropped += n
	k := 0
	for k+1 < len(l.chunks) && l.chunks[k+1].first <= l.dropped {
		k++
	}
	copy(l.chunks, l.chunks[k:])
	clear(l.chunks[len(l.chunks)-k:])
	l.chunks = l.chunks[:len(l.chunks)-k]
}
