package catalog

import "context"

// ReloadLog records a reload of the file's objects before it is in force, as ChangeLog does a
// change asked through Apply, so that no reload is in force without its record.
type ReloadLog interface {
	// Before records the reload about to be put in force (c is the catalog it puts in force).
	// An error refuses the reload: nothing is committed, and the catalog in force stays.
	Before(ctx context.Context, c *Catalog) error
	// NotCommitted records that the reload Before recorded was not committed after all: with
	// ErrStale another change was committed first (the reload is checked, recorded and
	// committed again); with any other error the store failed.
	NotCommitted(ctx context.Context, err error)
}

// ReloadLogged is Reload with log recording the reload before it is in force.
func (m *Manager) ReloadLogged(ctx context.Context, file Objects, log ReloadLog) (*Catalog, error) {
	return m.reloadWith(ctx, file, log)
}

// StartChange is what a replica starting on a file that changed while no replica ran on it
// records in the store.
type StartChange struct {
	// Catalog is the catalog the replica starts with.
	Catalog *Catalog
	// Left names the objects ("kind id") that left the file, or their place in it: their runs
	// end.
	Left []string
	// Changed names the file's objects ("kind id") edited since, whose version rises.
	Changed []string
	// Added names the file's objects ("kind id") that entered it since: an API key among them
	// is in force from this start.
	Added []string
	// Removed names the file's objects ("kind id") of the kinds that leave no tombstone
	// (integrations, attachments, roles) that left it since: what they gave is gone from this
	// start.
	Removed []string
}

// any reports whether ch names any object.
func (ch StartChange) any() bool {
	return len(ch.Left)+len(ch.Changed)+len(ch.Added)+len(ch.Removed) > 0
}

// StartLog records, before they are committed, the changes a replica starting on a file that
// changed while no replica ran makes, as ReloadLog does a reload's: no such change is in force
// without its record.
type StartLog interface {
	// Before records the changes about to be committed. An error fails the start: nothing is
	// committed.
	Before(ctx context.Context, ch StartChange) error
	// NotCommitted records that the changes Before recorded were not committed after all: with
	// ErrStale another replica committed first (the start checks, records and commits again
	// what is still to change); with any other error the store failed and the start fails.
	NotCommitted(ctx context.Context, err error)
}

// WrittenBack is one change the store lost that a replica writes back (see lostChanges).
type WrittenBack struct {
	// Ref names the object.
	Ref Ref
	// Deleted is true when the change is a deletion (a tombstone), false when it is a put.
	Deleted bool
	// Version is the object's version the change writes.
	Version int64
	// Space, Stack and Integration are where the change's event is filed (see filedAt): Space
	// is never empty, Stack is set for a stack's or an attachment's change, Integration for an
	// integration's or an attachment's.
	Space, Stack, Integration string
	// Also lists further spaces the event is filed under: an API key's other bindings' spaces,
	// the place a move leaves, a deleted space's parent.
	Also []string
}

// WriteBack is what a replica writes back to a store that went back (wiped, or failed over to
// a replica that had not received the last writes) and lost changes it had in force.
type WriteBack struct {
	// Changes are the objects' changes written back, in the order they are committed. The
	// store's record of the file as seen, which is no object, is not among them.
	Changes []WrittenBack
	// Revision is the store's revision as read, which went back.
	Revision int64
	// Had is the revision of the catalog this replica had in force.
	Had int64
	// Index is the catalog once the changes are written back, which places the spaces the
	// events are filed under (see api.Event.Index); nil files them by the catalog in force.
	Index *Catalog
}

// WriteBackLog records, before they are committed, the changes a replica writes back to a store
// that lost them, as ReloadLog does a reload's: no change is in force again without its record.
type WriteBackLog interface {
	// Before records the changes about to be written back. An error writes nothing back: the
	// catalog in force stays, and the next refresh tries again.
	Before(ctx context.Context, wb WriteBack) error
	// NotCommitted records that the changes Before recorded were not written back after all:
	// with ErrStale another change was committed first (the next refresh compares the store
	// with the catalog in force again); with any other error the store failed.
	NotCommitted(ctx context.Context, wb WriteBack, err error)
}
