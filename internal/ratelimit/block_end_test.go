package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestBlockEndsAtItsEndInstant pins that a block is over at the instant it ends, also for eviction
// at the cap: a block ending exactly now is dropped before a live counting key, and a key that
// fails exactly at the end of its block is filed as counting (its fresh failure kept, so a key
// failing less recently gives way first).
// Guards against: memory.go:makeRoom ended-block loop `!blockedUntil.After(now)` ->
// `blockedUntil.Before(now)`
// Guards against: memory.go:file `isBlocked := blockedUntil.After(now)` ->
// `!blockedUntil.Before(now)`
func TestBlockEndsAtItsEndInstant(t *testing.T) {
	ctx := context.Background()
	p := Policy{AuthFailures: 2, Window: time.Hour, Cooloff: time.Minute}
	tracked := func(m *Memory, k string) bool { _, ok := m.entries[k]; return ok }

	t.Run("ended block dropped first", func(t *testing.T) {
		c := fakeclock.New(time.Unix(1000, 0))
		m := NewMemory(p, c.Now)
		m.limit = 2
		m.Failed(ctx, "x")
		m.Failed(ctx, "x") // blocked until +1m
		m.Failed(ctx, "a") // counting, window live for an hour
		c.Advance(time.Minute)
		m.Failed(ctx, "b")
		if tracked(m, "x") || !tracked(m, "a") || !tracked(m, "b") {
			t.Errorf("want x, whose block ended this instant, dropped and a kept; x %v a %v", tracked(m, "x"), tracked(m, "a"))
		}
	})

	t.Run("failure at the block's end counts", func(t *testing.T) {
		c := fakeclock.New(time.Unix(1000, 0))
		m := NewMemory(p, c.Now)
		m.limit = 3
		m.Failed(ctx, "a")
		m.Failed(ctx, "k")
		m.Failed(ctx, "k") // blocked until +1m
		c.Advance(time.Minute)
		if wait, _ := m.Failed(ctx, "k"); wait != 0 {
			t.Fatalf("failure at the block's end waits %v, want 0", wait)
		}
		c.Advance(time.Second)
		m.Failed(ctx, "b")
		c.Advance(time.Second)
		m.Failed(ctx, "c") // at the cap: a failed least recently
		if tracked(m, "a") || !tracked(m, "k") {
			t.Fatalf("want a displaced and k kept; a %v k %v", tracked(m, "a"), tracked(m, "k"))
		}
		m.Failed(ctx, "k") // with the failure at the block's end, the second: a fresh block
		if wait, _ := m.Failed(ctx, "k"); wait != time.Minute {
			t.Errorf("k's failure at its block's end was not counted: wait %v, want a fresh 1m block", wait)
		}
	})
}
