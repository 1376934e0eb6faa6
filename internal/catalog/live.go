package catalog

import (
	"sync/atomic"

	"github.com/brokerhq/broker/internal/claims"
)

// Live holds the catalog in force. Readers call Load once per request and use that snapshot
// throughout; a change builds a new Catalog and Stores it, so readers never see half a change.
type Live struct {
	cur atomic.Pointer[Catalog]
}

// NewLive returns a Live holding c.
func NewLive(c *Catalog) *Live {
	l := &Live{}
	l.cur.Store(c)
	return l
}

// Load returns the catalog in force.
func (l *Live) Load() *Catalog { return l.cur.Load() }

// Store puts c in force.
func (l *Live) Store(c *Catalog) { l.cur.Store(c) }

// Subject renders a run's `sub` with the catalog in force (issuer.Subjects).
func (l *Live) Subject(s claims.Subject) (string, bool) { return l.Load().Subject(s) }
