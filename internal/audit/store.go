package audit

import (
	"context"
	"errors"
	"strconv"
	"sync"
)

// Store keeps the chain. Implementations serialize appends across every writer they serve.
type Store interface {
	// Append sets e.Prev to the hash of the chain's last event ("" for the first), appends e, and
	// indexes it under each of spaces (its space and that space's ancestors, so a listing of a
	// space holds its subtree). It returns e as stored.
	Append(ctx context.Context, e Event, spaces []string) (Event, error)
	// List returns at most limit events indexed under space, oldest first, after cursor (""
	// for the start), and the cursor of the next page ("" when there is none).
	List(ctx context.Context, space, cursor string, limit int) ([]Event, string, error)
}

// Errors of Store.
var (
	// ErrBadCursor: the cursor was not produced by List.
	ErrBadCursor = errors.New("invalid audit cursor")
	// ErrUnavailable wraps failures to reach a shared store.
	ErrUnavailable = errors.New("audit store unavailable")
)

// ParseCursor reads a cursor: the number of events of the space already listed.
func ParseCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, ErrBadCursor
	}
	return n, nil
}

// Memory is a Store for one replica.
type Memory struct {
	mu      sync.Mutex
	events  []Event
	bySpace map[string][]int
	tail    string
}

// NewMemory returns an empty memory Store.
func NewMemory() *Memory { return &Memory{bySpace: map[string][]int{}} }

// Append implements Store.
func (m *Memory) Append(_ context.Context, e Event, spaces []string) (Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.Prev = m.tail
	h, err := Hash(e)
	if err != nil {
		return Event{}, err
	}
	m.events = append(m.events, e)
	for _, s := range spaces {
		m.bySpace[s] = append(m.bySpace[s], len(m.events)-1)
	}
	m.tail = h
	return e, nil
}

// List implements Store.
func (m *Memory) List(_ context.Context, space, cursor string, limit int) ([]Event, string, error) {
	from, err := ParseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	idx := m.bySpace[space]
	if from >= int64(len(idx)) {
		return []Event{}, "", nil
	}
	end := min(int(from)+limit, len(idx))
	out := make([]Event, 0, end-int(from))
	for _, i := range idx[from:end] {
		out = append(out, m.events[i])
	}
	next := ""
	if end < len(idx) {
		next = strconv.Itoa(end)
	}
	return out, next, nil
}
