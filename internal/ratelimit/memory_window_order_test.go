package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestEvictionDropsEndedWindowBeforeLiveCount: at the cap a new key first displaces keys
// whose window and block are over, and only then the key that failed least recently, also when
// the key whose window is over failed again late in it, after a key whose window is still open.
func TestEvictionDropsEndedWindowBeforeLiveCount(t *testing.T) {
	ctx := context.Background()
	c := fakeclock.New(time.Unix(1000, 0))
	m := NewMemory(Policy{AuthFailures: 5, Window: time.Minute, Cooloff: time.Minute}, c.Now)
	m.limit = 2
	m.Failed(ctx, "old") // its window opens at +0s
	c.Advance(10 * time.Second)
	m.Failed(ctx, "live") // its window opens at +10s
	c.Advance(40 * time.Second)
	m.Failed(ctx, "old") // +50s: still old's first window, now the most recent failure
	c.Advance(11 * time.Second)
	m.Failed(ctx, "new") // +61s: old's window is over, live's (51s old) is not
	checkSize(t, m, 2)
	_, old := m.entries["old"]
	_, live := m.entries["live"]
	if old || !live {
		t.Errorf("at the cap: old (window over) tracked %v, live (window open) tracked %v; "+
			"want old displaced and live kept", old, live)
	}
}
