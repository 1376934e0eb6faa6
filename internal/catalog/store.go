package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Store errors.
var (
	// ErrStale: the store's revision moved since the caller read it; reload and try again.
	ErrStale = errors.New("catalog store changed since it was read")
	// ErrUnavailable wraps failures to reach the store's backing service.
	ErrUnavailable = errors.New("catalog store unavailable")
)

// Record is one object created through the API, as the store keeps it.
type Record struct {
	Ref Ref
	// Version grows by one with each change of the object.
	Version int64
	// Created is when the object was created (Unix milliseconds); a replacement keeps it. On a
	// tombstone it is when the object was deleted (0 when a tombstone does not know).
	Created int64
	// Body is the object in the API's JSON form (config.EncodeJSON).
	Body []byte
}

// Snapshot is every stored object at one revision.
type Snapshot struct {
	// Revision grows by one with each commit; 0 is an empty store.
	Revision int64
	// Commit is the id of the commit that made Revision (see Head).
	Commit  string
	Records []Record
}

// Head returns the state the snapshot was read at.
func (s Snapshot) Head() Head { return Head{Revision: s.Revision, Commit: s.Commit} }

// Head names one state of the store: its revision, and the commit that made it. A store that
// lost commits (wiped, or a failover to a replica that had not received them) goes back to an
// older revision, and can reach a revision it had before through other commits: the commit's
// id tells those states apart, so a replica never takes a different state for its own.
type Head struct {
	// Revision grows by one with each commit; 0 is an empty store.
	Revision int64
	// Commit is a unique id of the commit that made Revision; "" for an empty store.
	Commit string
}

// Change is one write of a commit: Body set stores the record, Body nil deletes Ref. A record
// whose Body is empty (not nil) is a tombstone: the object was deleted at Version, and one
// created again under its id goes on from there.
type Change struct {
	Record
}

// Store keeps the objects created through the API, shared by every replica. Implementations
// are safe for concurrent use; every commit is all or nothing.
type Store interface {
	// Load returns every record and the revision they were read at, as one consistent read.
	Load(ctx context.Context) (Snapshot, error)
	// Head returns the current state; replicas poll it to notice changes.
	Head(ctx context.Context) (Head, error)
	// Commit applies changes if the store is still at the state at, and returns the new state
	// (revision at.Revision+1, and the commit's id). When the store is at another state
	// (another commit came first, or it went back) it fails with ErrStale and changes nothing.
	Commit(ctx context.Context, at Head, changes []Change) (Head, error)
	// Notify returns a channel that receives, best effort, after any replica's commit. It is
	// closed when ctx ends. A replica must still poll Head: a notice can be lost.
	Notify(ctx context.Context) <-chan struct{}
}

// Memory is a Store in this process's memory, for a single replica.
type Memory struct {
	mu      sync.Mutex
	rev     int64
	commit  string
	records map[Ref]Record
	waiters []chan struct{}
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{records: map[Ref]Record{}} }

var _ Store = (*Memory)(nil)

// Load implements Store.
func (m *Memory) Load(context.Context) (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	snap := Snapshot{Revision: m.rev, Commit: m.commit, Records: make([]Record, 0, len(m.records))}
	for _, r := range m.records {
		r.Body = slices.Clone(r.Body)
		snap.Records = append(snap.Records, r)
	}
	SortRecords(snap.Records)
	return snap, nil
}

// Head implements Store.
func (m *Memory) Head(context.Context) (Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return Head{Revision: m.rev, Commit: m.commit}, nil
}

// Commit implements Store.
func (m *Memory) Commit(_ context.Context, at Head, changes []Change) (Head, error) {
	id, err := NewCommitID()
	if err != nil {
		return Head{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if at != (Head{Revision: m.rev, Commit: m.commit}) {
		return Head{}, ErrStale
	}
	for _, c := range changes {
		if c.Body == nil {
			delete(m.records, c.Ref)
			continue
		}
		c.Body = slices.Clone(c.Body)
		m.records[c.Ref] = c.Record
	}
	m.rev++
	m.commit = id
	for _, w := range m.waiters {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	return Head{Revision: m.rev, Commit: m.commit}, nil
}

// NewCommitID returns a new random commit id: 32 hex digits.
func NewCommitID() (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("catalog: commit id: %w", err)
	}
	return hex.EncodeToString(id[:]), nil
}

// Notify implements Store.
func (m *Memory) Notify(ctx context.Context) <-chan struct{} {
	in := make(chan struct{}, 1)
	out := make(chan struct{}, 1)
	m.mu.Lock()
	m.waiters = append(m.waiters, in)
	m.mu.Unlock()
	go func() {
		defer close(out)
		defer func() {
			m.mu.Lock()
			m.waiters = slices.DeleteFunc(m.waiters, func(c chan struct{}) bool { return c == in })
			m.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-in:
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out
}

// SortRecords orders records by kind (dependency order) and id, so loads are deterministic.
func SortRecords(rs []Record) {
	rank := make(map[Kind]int, len(Kinds))
	for i, k := range Kinds {
		rank[k] = i
	}
	slices.SortFunc(rs, func(a, b Record) int {
		if d := rank[a.Ref.Kind] - rank[b.Ref.Kind]; d != 0 {
			return d
		}
		switch {
		case a.Ref.ID < b.Ref.ID:
			return -1
		case a.Ref.ID > b.Ref.ID:
			return 1
		}
		return 0
	})
}
