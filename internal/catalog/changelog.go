package catalog

import "context"

// ChangeLog records the changes asked through Apply before they are committed, so that no
// change is in force without its record (the API's audit trail).
type ChangeLog interface {
	// Before records the change res describes (res.Catalog is the catalog its commit puts in
	// force), before it is committed. An error refuses the change: it is not committed, and
	// Apply returns the error.
	Before(ctx context.Context, res Result) error
	// NotCommitted records that the change Before recorded was not committed after all: with
	// ErrStale another change was committed first (Apply validates again, and records again
	// before its next commit); with any other error the store failed, and whether the commit
	// landed is unknown until the catalog is read again.
	NotCommitted(ctx context.Context, res Result, err error)
}
