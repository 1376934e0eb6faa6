package auditsink

import (
	"context"
	"fmt"
	"math/bits"

	"github.com/brokerhq/broker/internal/audit"
)

// maxMarks bounds the marks saved with a cursor: one per distance class 2^k back from it,
// enough for any chain.
const maxMarks = 40

// wentBack reports whether the chain no longer holds what the sink received before its cursor:
// it is shorter than the cursor, or the event before the cursor is not the one the sink
// received (compared with the chain's tail when the cursor is at the end, else with the Prev
// of events, read from first). A cursor without marks is judged by the length alone.
func wentBack(cur audit.SinkCursor, head audit.Head, events []audit.Event, first int64) bool {
	switch {
	case cur.Pos > head.Count:
		return true
	case !cur.Known():
		return false
	case cur.Pos == head.Count:
		return head.Tail != "" && head.Tail != cur.Marks[0].Hash
	case len(events) > 0 && first == cur.Pos:
		return events[0].Prev != cur.Marks[0].Hash
	}
	return false
}

// rewindTo is where a sink whose chain went back resumes: just past its newest mark whose event
// the chain still holds unchanged (the chain is the same up to there, so the sink received
// every event before), keeping that mark and the older ones; position 0 when none is.
func (w *worker) rewindTo(ctx context.Context, cur audit.SinkCursor, head audit.Head) (audit.SinkCursor, error) {
	for i, m := range cur.Marks {
		if m.Pos >= head.Count {
			continue
		}
		events, first, err := w.chain.Range(ctx, m.Pos, 1)
		if err != nil {
			return audit.SinkCursor{}, fmt.Errorf("read chain: %w", err)
		}
		if len(events) == 0 || first != m.Pos {
			continue
		}
		if h, err := audit.Hash(events[0]); err == nil && h == m.Hash {
			return audit.SinkCursor{Pos: m.Pos + 1, Marks: cur.Marks[i:]}, nil
		}
	}
	return audit.SinkCursor{}, nil
}

// rewind moves the cursor of a sink whose chain went back to the first position the sink may
// not have received (see rewindTo), logs a warning and counts it. It reports whether it moved
// the cursor (false when another replica holds the lease now).
func (w *worker) rewind(ctx context.Context, cur audit.SinkCursor, head audit.Head) (bool, error) {
	to, err := w.rewindTo(ctx, cur, head)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	ok, err := w.cursors.Rewind(sctx, w.Name, w.holder, to)
	if err != nil {
		return false, fmt.Errorf("rewind cursor: %w", err)
	}
	if !ok {
		w.leader.Store(false)
		return false, nil
	}
	w.rewinds.Add(1)
	w.pending.Store(max(0, head.Count-to.Pos))
	w.log.Warn("audit sink: the audit chain went back below events this sink received (the store lost them, and may "+
		"hold new events at their positions); delivering again from the first position it may not have received",
		"cursor", cur.Pos, "rewound_to", to.Pos, "chain", head.Count)
	return true, nil
}

// nextMarks are the marks of the cursor past events, delivered from position first after a
// cursor with marks old: the oldest mark of each distance class (bits.Len of the distance from
// the last delivered event), taken from events (by their hash and Prev) and old. None when the
// last event cannot be hashed.
func nextMarks(old []audit.Mark, first int64, events []audit.Event) []audit.Mark {
	last := first + int64(len(events)) - 1
	h, err := audit.Hash(events[len(events)-1])
	if err != nil {
		return nil
	}
	candidates := make([]audit.Mark, 0, len(events)+len(old))
	candidates = append(candidates, audit.Mark{Pos: last, Hash: h})
	for i := len(events) - 1; i >= 0; i-- {
		if pos := first + int64(i) - 1; pos >= 0 {
			candidates = append(candidates, audit.Mark{Pos: pos, Hash: events[i].Prev})
		}
	}
	for _, m := range old {
		if m.Pos < first-1 {
			candidates = append(candidates, m)
		}
	}
	// The oldest of each class is kept: it moves on to the next class as the cursor does, so the
	// marks reach back about twice as far as the last delivered event at every distance class,
	// whatever the batches' size.
	out := make([]audit.Mark, 0, min(len(candidates), maxMarks))
	class := -1
	for _, m := range candidates {
		c := bits.Len64(uint64(last - m.Pos))
		switch {
		case c == class:
			out[len(out)-1] = m
		case len(out) < maxMarks:
			class = c
			out = append(out, m)
		}
	}
	return out
}
