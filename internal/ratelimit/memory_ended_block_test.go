package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// MaxTracked's rule: at the cap a new key first displaces keys whose window and block are both
// over, then the key that failed least recently without being blocked. A key whose block just
// ended but which failed during it, in a window still open, is neither: it outlives an
// unblocked key that failed earlier, and keeps the failures it has, so that its next failures
// block it again.
func TestEndedBlockWithOpenWindowIsNotDisplacedFirst(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 3, Window: time.Minute, Cooloff: 10 * time.Second}, c.Now)
	m.limit = 2
	for range 3 {
		m.Failed(ctx, "attacker") // blocked for 10s; a fresh window starts now
	}
	c.Advance(5 * time.Second)
	m.Failed(ctx, "other") // unblocked, fails once, before the attacker's next failures
	c.Advance(4 * time.Second)
	m.Failed(ctx, "attacker") // during the block: two failures of the open window
	m.Failed(ctx, "attacker")
	c.Advance(3 * time.Second) // the block is over, the window (12s old) is not
	m.Failed(ctx, "newcomer")  // at the cap: "other" failed least recently without a block
	if _, ok := m.entries["attacker"]; !ok {
		t.Errorf("the key whose block ended with 2 failures in an open window was displaced; "+
			"other tracked: %v", m.entries["other"] != nil)
	}
	m.Failed(ctx, "attacker") // its third failure of the window blocks it again
	if wait, _ := m.Failed(ctx, "attacker"); wait <= 0 {
		t.Errorf("after 3 failures within the window the attacker is not blocked (wait %v)", wait)
	}
}
