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
