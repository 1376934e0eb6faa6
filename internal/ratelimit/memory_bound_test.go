package ratelimit

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// sources returns n distinct IPv6 addresses, as a spray from many sources would present.
func sources(n int) []string {
	out := make([]string, n)
	a := netip.MustParseAddr("2001:db8::")
	for i := range out {
		a = a.Next()
		out[i] = a.String()
	}
	return out
}

// checkSize fails t unless m's table and lists agree and hold at most limit entries.
func checkSize(t *testing.T, m *Memory, limit int) {
	t.Helper()
	if n := len(m.entries); n > limit || n != m.counting.Len()+m.blocked.Len() || m.windows.Len() != m.counting.Len() {
		t.Fatalf("tracking %d entries (%d counting, %d in windows, %d blocked), want at most %d and the lists to agree",
			n, m.counting.Len(), m.windows.Len(), m.blocked.Len(), limit)
	}
}

// TestMemoryBoundedUnderManySources sprays failures from 200,000 distinct addresses within one
// window (none expires): the table stays at MaxTracked, and a blocked address stays blocked.
func TestMemoryBoundedUnderManySources(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 3, Window: time.Hour, Cooloff: time.Hour}, c.Now)
	for range 3 {
		m.Failed(ctx, "192.0.2.1")
	}
	for i, addr := range sources(2 * MaxTracked) {
		if _, err := m.Failed(ctx, addr); err != nil {
			t.Fatal(err)
		}
		if i%10_000 == 0 {
			checkSize(t, m, MaxTracked)
		}
	}
	checkSize(t, m, MaxTracked)
	if wait, _ := m.Failed(ctx, "192.0.2.1"); wait != time.Hour {
		t.Errorf("the blocked address was flushed out by the spray: wait %v", wait)
	}
	// The newest sources are still counted: two more failures block one.
	last := sources(2 * MaxTracked)[2*MaxTracked-1]
	m.Failed(ctx, last)
	m.Failed(ctx, last)
	if wait, _ := m.Failed(ctx, last); wait != time.Hour {
		t.Errorf("the most recent source lost its count: wait %v", wait)
	}
}

// TestMemoryEvictionOrder checks, on a small cap, which entry a new source displaces: ended
// blocks and expired windows first, then the least recently failed unblocked source, and a
// block only when every tracked source is blocked.
func TestMemoryEvictionOrder(t *testing.T) {
	ctx := context.Background()
	tracked := func(m *Memory, addr string) bool { _, ok := m.entries[addr]; return ok }

	t.Run("least recently failed goes first", func(t *testing.T) {
		c := fakeclock.New(time.Unix(1000, 0))
		m := NewMemory(Policy{AuthFailures: 5, Window: time.Hour, Cooloff: time.Hour}, c.Now)
		m.limit = 3
		for _, a := range []string{"a", "b", "c", "a"} { // a failed again: b is now the oldest
			m.Failed(ctx, a)
			c.Advance(time.Second)
		}
		m.Failed(ctx, "d")
		checkSize(t, m, 3)
		if tracked(m, "b") || !tracked(m, "a") || !tracked(m, "c") || !tracked(m, "d") {
			t.Errorf("after a, b, c, a, d on a cap of 3: want b displaced")
		}
	})

	t.Run("blocks survive while unblocked sources remain", func(t *testing.T) {
		c := fakeclock.New(time.Unix(1000, 0))
		m := NewMemory(Policy{AuthFailures: 2, Window: time.Hour, Cooloff: time.Hour}, c.Now)
		m.limit = 3
		m.Failed(ctx, "x")
		m.Failed(ctx, "x") // blocked, and the oldest
		for _, a := range []string{"a", "b", "c", "d"} {
			c.Advance(time.Second)
			m.Failed(ctx, a)
		}
		checkSize(t, m, 3)
		if e, ok := m.entries["x"]; !ok || !e.blockedUntil.After(c.Now()) {
			t.Errorf("block displaced by unblocked sources")
		}
		// Only blocked entries left: the block ending first gives way.
		for _, a := range []string{"y", "z"} {
			c.Advance(time.Second)
			m.Failed(ctx, a)
			m.Failed(ctx, a)
		}
		checkSize(t, m, 3)
		if m.blocked.Len() != 3 {
			t.Fatalf("%d blocked, want 3", m.blocked.Len())
		}
		c.Advance(time.Second)
		m.Failed(ctx, "w")
		if tracked(m, "x") || !tracked(m, "y") || !tracked(m, "z") || !tracked(m, "w") {
			t.Errorf("want the earliest-ending block x displaced")
		}
	})

	t.Run("expired entries go before live ones", func(t *testing.T) {
		c := fakeclock.New(time.Unix(1000, 0))
		m := NewMemory(Policy{AuthFailures: 2, Window: time.Minute, Cooloff: time.Minute}, c.Now)
		m.limit = 3
		m.Failed(ctx, "x")
		m.Failed(ctx, "x") // blocked until +1m
		m.Failed(ctx, "a")
		c.Advance(2 * time.Minute) // x's block and a's window are over
		m.Failed(ctx, "b")
		m.Failed(ctx, "c")
		checkSize(t, m, 3)
		if tracked(m, "x") || tracked(m, "a") || !tracked(m, "b") || !tracked(m, "c") {
			t.Errorf("want the expired x and a dropped, b and c kept")
		}
	})
}
