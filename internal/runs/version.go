package runs

import "errors"

// Version identifies a run's stored record as a store read it, so that a later write can
// require the record to be still the same, atomically with the write (see the audit trail's
// CheckedStore). The zero Version requires nothing.
type Version struct {
	// ID is the run's id, which its token must still name.
	ID string
	// Token is the hash of the run's token.
	Token TokenHash
	// Digest is the hex SHA-1 of the stored record as read.
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
