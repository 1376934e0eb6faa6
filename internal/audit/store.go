package audit

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"

	"github.com/brokerhq/broker/internal/runs"
)

// Store keeps the chain. Implementations serialize appends across every writer they serve.
type Store interface {
	// Append sets e.Prev to the hash of the chain's last event ("" for the first), appends e, and
	// indexes it under each of spaces (its space and that space's ancestors, so a listing of a
	// space holds its subtree). It returns e as stored.
	Append(ctx context.Context, e Event, spaces []string) (Event, error)
	// List returns at most limit events indexed under space, oldest first, after cursor (""
	// for the start), and the cursor of the next page ("" when there is none). A cursor is a
	// position in the space's own index, so it tells nothing of other spaces' events.
	List(ctx context.Context, space, cursor string, limit int) ([]Event, string, error)
	// Head returns the end of the chain as one consistent read: its length, its last hash and
	// the last checkpoint.
	Head(ctx context.Context) (Head, error)
	// AppendCheckpoint appends e like Append, and also under CheckpointIndex, if the last
	// checkpoint is still the one at position after (-1 for none); otherwise it appends nothing
	// and reports false. So of replicas that found the same checkpoint due, one writes it.
	AppendCheckpoint(ctx context.Context, e Event, spaces []string, after int64) (Event, bool, error)
}

// CheckedStore is a Store that can append an event only while a run's stored record is still
// the Version it was read at, checked atomically with the append: the event of something done
// for a run read earlier lands only if the run has not changed since.
type CheckedStore interface {
	// AppendChecked appends e as Append does if the run's record is still v, and otherwise
	// appends nothing and fails with runs.ErrChanged.
	AppendChecked(ctx context.Context, e Event, spaces []string, v runs.Version) (Event, error)
}

// CheckpointIndex is the index of the checkpoint events, besides their space. It is not a space
// id (ids never start with '.'), so no listing through the API reaches it.
const CheckpointIndex = ".checkpoints"

// Head is the end of the chain.
type Head struct {
	// Count is how many events were ever appended (positions 0 to Count-1).
	Count int64
	// Tail is the hash of the last event, "" for an empty chain.
	Tail string
	// Checkpoint is the last event indexed under CheckpointIndex, nil when none; CheckpointAt
	// is its position.
	Checkpoint   *Event
	CheckpointAt int64
}

// Errors of Store.
var (
	// ErrBadCursor: the cursor was not produced by List.
	ErrBadCursor = errors.New("invalid audit cursor")
	// ErrUnavailable wraps failures to reach a shared store.
	ErrUnavailable = errors.New("audit store unavailable")
)

// MayLandLater reports whether an append that failed with err may still be applied later: the
// store did not answer in time (ErrUnavailable, a deadline; Redis frozen, then back), or its
// caller left while the append waited behind another caller's round trip (context.Canceled:
// a Redis trail sends queued appends together). An append refused with any other error never
// lands, so an event that failed so needs no correction.
func MayLandLater(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// ParseCursor reads a cursor: a position in a space's index, written as the stores write it (decimal digits, no sign, no leading zero), so that one position
// has one cursor.
func ParseCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != c {
		return 0, ErrBadCursor
	}
	return n, nil
}

// MemoryRetain is how many events NewMemory keeps.
const MemoryRetain = 10_000

// MaxMemoryEvents bounds a Memory's retention and its backlog for sinks (see HoldFor), so that
// positions within it fit an index entry.
const MaxMemoryEvents = 1 << 30

// Memory is a Store for one replica. It keeps the last events only (its retention): past it,
// the oldest are dropped, so a long-running replica's memory stays bounded, and the events it
// still holds form a verifiable chain (the first one's Prev points at a dropped event). The
// last checkpoint is kept even when it falls behind the retention, so anchoring carries on.
// Events are kept packed (compact.go) back to back in shared chunks (eventlog.go): a token's
// event costs about 150 bytes of heap with its offset and index entries
// (BenchmarkMemoryRetainedBytes).
type Memory struct {
	mu     sync.Mutex
	log    eventLog
	packer packer
	// bySpace lists, per index, the positions of its events relative to log.dropped.
	bySpace map[string][]int32
	// spaceTrimmed counts, per index, the entries trim dropped from its front: a listing's
	// cursor is a position in its index, which tells nothing of other spaces' events.
	spaceTrimmed map[string]int64
	tail         string
	retain       int
	scratch      []byte // where an event is packed before it is copied into the log
	// checkpoint is the last checkpoint event, packed in its own allocation, and checkpointAt
	// its position (-1 for none).
	checkpoint   []byte
	checkpointAt int
	// floor, when set (see HoldFor), is the position of the first event a reader of the whole
	// chain (an audit sink) still needs; backlog bounds how many events are kept for it.
	floor   func() int64
	backlog int
}

// HoldFor makes m keep, beyond its retention, the events from floor() on (the first event an
// audit sink has not received), up to backlog events in all (at most 2^30): a sink that is down
// for longer than the retention still receives every event once it is back, within the
// backlog. floor is called with m's lock held; it must not call m.
func (m *Memory) HoldFor(floor func() int64, backlog int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.floor, m.backlog = floor, min(max(backlog, 1), MaxMemoryEvents)
}

// keep is how many of the latest events m keeps now: its retention, or more while a reader
// of the whole chain has not read them (see HoldFor). The caller holds mu.
func (m *Memory) keep() int {
	if m.floor == nil {
		return m.retain
	}
	waiting := int64(m.log.end()) - m.floor()
	return max(m.retain, int(min(waiting, int64(m.backlog))))
}

// NewMemory returns an empty memory Store keeping the last MemoryRetain events.
func NewMemory() *Memory { return NewMemoryRetaining(MemoryRetain) }

// NewMemoryRetaining returns an empty memory Store keeping the last n events (at least 1, at
// most 2^30). It may hold up to a sixteenth more (at least one) between two trims, which keep
// appends amortized O(1).
func NewMemoryRetaining(n int) *Memory {
	return &Memory{bySpace: map[string][]int32{}, spaceTrimmed: map[string]int64{}, retain: min(max(n, 1), MaxMemoryEvents), checkpointAt: -1}
}

// Append implements Store.
func (m *Memory) Append(_ context.Context, e Event, spaces []string) (Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.appendLocked(e, spaces)
}

// AppendCheckpoint implements Store.
func (m *Memory) AppendCheckpoint(_ context.Context, e Event, spaces []string, after int64) (Event, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if int64(m.checkpointAt) != after {
		return Event{}, false, nil
	}
	e, err := m.appendLocked(e, append(spaces[:len(spaces):len(spaces)], CheckpointIndex))
	if err != nil {
		return Event{}, false, err
	}
	// The scratch buffer still holds the event just appended.
	m.checkpoint, m.checkpointAt = append([]byte(nil), m.scratch...), m.log.end()-1
	return e, true, nil
}

// appendLocked appends e; the caller holds mu.
func (m *Memory) appendLocked(e Event, spaces []string) (Event, error) {
	e.Prev = m.tail
	h, err := Hash(e)
	if err != nil {
		return Event{}, err
	}
	m.scratch = m.packer.pack(m.scratch[:0], &e)
	m.log.append(m.scratch)
	for _, s := range spaces {
		m.bySpace[s] = append(m.bySpace[s], int32(m.log.len()-1))
	}
	m.tail = h
	if n := m.log.len(); n > m.retain+slack(m.retain) { // trim in batches, so appends stay amortized O(1)
		if keep := m.keep(); n > keep+slack(keep) {
			m.trim(keep)
		}
	}
	return e, nil
}

// slack is how many events past keeping keep the store holds before it trims: a sixteenth of
// them, at least one. A trim moves every kept event's offset and index entries, so it costs
// about sixteen moves per event appended since the last one.
func slack(keep int) int { return max(keep/16, 1) }

// trim drops all but the last keep events and their index entries, moving what is left in
// place. The caller holds mu.
func (m *Memory) trim(keep int) {
	cut := m.log.len() - keep
	m.log.dropFront(cut)
	for space, idx := range m.bySpace {
		i := sort.Search(len(idx), func(i int) bool { return int(idx[i]) >= cut })
		if i > 0 {
			m.spaceTrimmed[space] += int64(i)
		}
		if i == len(idx) {
			delete(m.bySpace, space)
			continue
		}
		kept := idx[:len(idx)-i]
		for j, pos := range idx[i:] {
			kept[j] = pos - int32(cut)
		}
		if len(kept) < cap(kept)/4 { // a space gone quiet gives back what it no longer needs
			kept = append([]int32(nil), kept...)
		}
		m.bySpace[space] = kept
	}
}

// Head implements Store.
func (m *Memory) Head(context.Context) (Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := Head{Count: int64(m.log.end()), Tail: m.tail}
	if m.checkpointAt >= 0 {
		e := m.packer.unpack(m.checkpoint)
		h.Checkpoint, h.CheckpointAt = &e, int64(m.checkpointAt)
	}
	return h, nil
}

// processLocal marks m as held in the replica's own memory (see Checkpointer.guard).
func (*Memory) processLocal() {}

// List implements Store.
func (m *Memory) List(_ context.Context, space, cursor string, limit int) ([]Event, string, error) {
	from, err := ParseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// A cursor is a position in the space's index, trimmed entries counted: the first entry not
	// yet listed.
	idx, trimmed := m.bySpace[space], m.spaceTrimmed[space]
	start := int(min(max(from-trimmed, 0), int64(len(idx))))
	end := start + min(max(limit, 0), len(idx)-start)
	out := make([]Event, 0, end-start)
	for _, i := range idx[start:end] {
		out = append(out, m.packer.unpack(m.log.at(m.log.dropped+int(i))))
	}
	next := ""
	if end < len(idx) {
		next = strconv.FormatInt(trimmed+int64(end), 10)
	}
	return out, next, nil
}
