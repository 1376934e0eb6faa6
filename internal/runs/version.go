package runs

import (
	"context"
	"errors"
)

// Version identifies a run's stored record as a store read it, so that a later write can
// require the record to be still the same, atomically with the write (see the audit trail's
// CheckedStore). The zero Version requires nothing.
type Version struct {
	// ID is the run's id, which its token must still name.
	ID string
	// Token is the hash of the run's token.
	Token TokenHash
	// Digest identifies the stored record as read; only the store that made it compares it.
	Digest string
}

// IsZero reports whether v requires nothing.
func (v Version) IsZero() bool { return v == Version{} }

// ErrChanged reports that a run's record is no longer the Version a write required: it was
// updated, finished or removed since it was read, and the write did nothing.
var ErrChanged = errors.New("run changed since it was read")

// Cache is a Store that remembers the runs it last read by token, with their Version, so that a
// request may use the run without reading it again when a later write checks the Version
// atomically. What Cached returns may be stale: only that check makes it safe to act on.
type Cache interface {
	// Cached returns the run token belongs to as this store last read it, and its Version;
	// false when it has none, or when the run it has is finished or expired.
	Cached(token TokenHash) (Run, Version, bool)
}

// Versioned is a Store whose reads by token also give the Version of the record read, so that
// what a request does for the run is recorded only while the run is still that record.
type Versioned interface {
	// GetByTokenVersion is GetByToken with the Version of the record it read; the zero Version
	// when this store cannot check one (see audit.CheckedStore and Holder).
	GetByTokenVersion(ctx context.Context, token TokenHash) (Run, Version, error)
}

// Holder is a Store in this process that checks a Version itself: WhileUnchanged runs fn only if
// the run's stored record is still v, and keeps the record unchanged until fn returns, so fn
// (appending the event of something done for the run) is ordered before any later change of
// the run. Otherwise it runs nothing and fails with ErrChanged.
type Holder interface {
	WhileUnchanged(v Version, fn func() error) error
}
