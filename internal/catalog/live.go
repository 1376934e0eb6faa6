package catalog

import (
	"sync/atomic"
	"time"

	"github.com/brokerhq/broker/internal/claims"
)

// Live holds the catalog in force. Readers call Load once per request and use that snapshot
// throughout; a change builds a new Catalog and Stores it, so readers never see half a change.
type Live struct {
	cur atomic.Pointer[Catalog]
	// confirmed is when the catalog in force was last found current with its store, on the
	// process's monotonic clock (see sinceStart); 0 for a catalog no store backs.
	confirmed atomic.Int64
}

// MaxStale is how long a replica that cannot read its store keeps taking API keys from the
// catalog it holds: a key deleted on another replica stops working on every replica within it,
// also on one cut off from the store, which answers 503 after it.
const MaxStale = time.Second

// processStart anchors sinceStart.
var processStart = time.Now()

// sinceStart is the time since the process started, on the monotonic clock: a replica's
// staleness is its own connectivity, whatever clock its catalog stamps objects with.
func sinceStart() int64 { return int64(time.Since(processStart)) + 1 }

// Reading is the moment a read of the store was sent, on the process's monotonic clock.
type Reading int64

// StartReading returns the moment a read of the store is sent now: what Confirm takes once the
// read has found the catalog in force current.
func StartReading() Reading { return Reading(sinceStart()) }

// Confirm records that the catalog in force was current with its store when the read sent at
// at asked: a reply that left the store before a change elsewhere cannot stretch how long a
// replica takes a deleted key by its own latency. An earlier read confirmed late never moves
// the confirmation back.
func (l *Live) Confirm(at Reading) {
	for {
		c := l.confirmed.Load()
		if c >= int64(at) || l.confirmed.CompareAndSwap(c, int64(at)) {
			return
		}
	}
}

// Stale returns how long ago the catalog in force was last found current with its store, when
// that is longer than max; 0 when it is not, and for a catalog no store backs.
func (l *Live) Stale(max time.Duration) time.Duration {
	c := l.confirmed.Load()
	if c == 0 {
		return 0
	}
	if age := time.Duration(sinceStart() - c); age > max {
		return age
	}
	return 0
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
