package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestBlockStartsAFreshWindow checks that a block starts a fresh counting window: failures
// during the block count towards a new block even when the window the block began in ends
// during it, so the second failure during the block extends it.
// Guards against: block start resets only the count, not windowStart (`e.failures = 0`)
func TestBlockStartsAFreshWindow(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 2, Window: time.Minute, Cooloff: 5 * time.Minute}, c.Now)
	m.Failed(ctx, "k")
	c.Advance(59 * time.Second)
	m.Failed(ctx, "k") // blocked until +5m59s, a fresh window from +59s
	c.Advance(500 * time.Millisecond)
	m.Failed(ctx, "k") // the first failure during the block
	c.Advance(500 * time.Millisecond)
	m.Failed(ctx, "k") // +60s: the second, within the fresh window: block extended to +6m
	c.Advance(time.Second)
	if wait, _ := m.Failed(ctx, "k"); wait != 4*time.Minute+59*time.Second {
		t.Errorf("wait %v, want 4m59s (the block extended at +60s)", wait)
	}
}

// TestEndedBlockKeptUnderTheCap checks that below the cap nothing is dropped: a key whose
// block has ended keeps the failures it made during the block, so with them one more failure
// starts a fresh block.
// Guards against: makeRoom's early return `len(m.entries) < m.limit` -> `< m.limit-1`
// Guards against: makeRoom's early return removed (ended blocks dropped even under the cap)
func TestEndedBlockKeptUnderTheCap(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 2, Window: time.Hour, Cooloff: time.Minute}, c.Now)
	m.limit = 2
	m.Failed(ctx, "k")
	m.Failed(ctx, "k") // blocked until +1m
	c.Advance(time.Second)
	m.Failed(ctx, "k") // counted during the block
	c.Advance(time.Minute)
	m.Failed(ctx, "other") // 1 tracked, cap 2: room without dropping
	if wait, _ := m.Failed(ctx, "k"); wait != 0 {
		t.Fatalf("k after its block: wait %v, want 0", wait)
	}
	if wait, _ := m.Failed(ctx, "k"); wait != time.Minute {
		t.Errorf("k lost the failure made during its block: wait %v, want a fresh 1m", wait)
	}
}

// TestExtendedBlockStaysListed checks that a key whose block is extended stays in the
// eviction lists: the table and the lists always hold the same entries.
// Guards against: unlist no longer clearing e.elem (an extended block falls out of every list)
func TestExtendedBlockStaysListed(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 2, Window: time.Hour, Cooloff: time.Hour}, c.Now)
	for range 4 { // blocked, then extended
		m.Failed(ctx, "x")
		c.Advance(time.Second)
	}
	if n := len(m.entries); n != m.counting.Len()+m.blocked.Len() || m.blocked.Len() != 1 {
		t.Errorf("%d entries, %d counting, %d blocked; want the one extended block listed",
			n, m.counting.Len(), m.blocked.Len())
	}
}

// TestWindowOverAtItsEndInstantForEviction checks that at the cap every counting key whose
// window ended exactly now is dropped, not only the one the cap needs.
// Guards against: expired's window test `>= m.policy.Window` -> `> m.policy.Window`
func TestWindowOverAtItsEndInstantForEviction(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 5, Window: time.Minute, Cooloff: time.Minute}, c.Now)
	m.limit = 3
	m.Failed(ctx, "a")
	m.Failed(ctx, "b")
	c.Advance(30 * time.Second)
	m.Failed(ctx, "c")
	c.Advance(30 * time.Second) // a's and b's windows end exactly now
	m.Failed(ctx, "d")
	_, a := m.entries["a"]
	_, b := m.entries["b"]
	if a || b {
		t.Errorf("a tracked %v, b tracked %v; want both, whose windows ended now, dropped", a, b)
	}
}
