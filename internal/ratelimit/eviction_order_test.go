package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestEvictionTakesTheBlockEndingFirst: when every tracked key is blocked, a new key
// displaces the block that ends first, also after blocks were extended (a block extended ends
// last) or failed during without being extended (its end stays where it was).
func TestEvictionTakesTheBlockEndingFirst(t *testing.T) {
	ctx := context.Background()
	tracked := func(m *Memory, k string) bool { _, ok := m.entries[k]; return ok }
	block := func(m *Memory, c *fakeclock.Clock, k string) {
		c.Advance(time.Second)
		m.Failed(ctx, k)
		m.Failed(ctx, k)
	}

	t.Run("extended block goes last", func(t *testing.T) {
		c := fakeclock.New(time.Unix(1000, 0))
		m := NewMemory(Policy{AuthFailures: 2, Window: time.Hour, Cooloff: time.Hour}, c.Now)
		m.limit = 3
		block(m, c, "x")
		block(m, c, "y")
		block(m, c, "x") // x's block now ends after y's
		block(m, c, "z")
		c.Advance(time.Second)
		m.Failed(ctx, "w")
		if tracked(m, "y") || !tracked(m, "x") || !tracked(m, "z") || !tracked(m, "w") {
			t.Errorf("want y, whose block ends first, displaced; x tracked %v, y %v, z %v",
				tracked(m, "x"), tracked(m, "y"), tracked(m, "z"))
		}
	})

	t.Run("failure during a block keeps its place", func(t *testing.T) {
		c := fakeclock.New(time.Unix(1000, 0))
		m := NewMemory(Policy{AuthFailures: 2, Window: time.Hour, Cooloff: time.Hour}, c.Now)
		m.limit = 3
		block(m, c, "x")
		block(m, c, "y")
		block(m, c, "z")
		c.Advance(time.Second)
		m.Failed(ctx, "x") // one failure during the block: not extended, x still ends first
		c.Advance(time.Second)
		m.Failed(ctx, "w")
		if tracked(m, "x") || !tracked(m, "y") || !tracked(m, "z") || !tracked(m, "w") {
			t.Errorf("want x, whose block ends first, displaced; x tracked %v, y %v", tracked(m, "x"), tracked(m, "y"))
		}
	})
}

// TestWindowIsHalfOpen: a failure exactly Window after the window started opens a new
// window (as a store key expiring after Window would).
func TestWindowIsHalfOpen(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 2, Window: time.Minute, Cooloff: 5 * time.Minute}, c.Now)
	m.Failed(ctx, "k")
	c.Advance(time.Minute)
	for i := range 2 {
		if wait, _ := m.Failed(ctx, "k"); wait != 0 {
			t.Fatalf("failure %d of the new window: wait %v, want 0", i+1, wait)
		}
	}
	if wait, _ := m.Failed(ctx, "k"); wait != 5*time.Minute {
		t.Errorf("after two failures of the new window: wait %v, want 5m", wait)
	}
}
