package ratelimit

import (
	"context"
	"testing"
	"time"
)

// TestFailedReadsTheClockUnderTheLock: Memory keeps its lists ordered by time, which holds only
// when failures take the time in the order they take the lock. A clock read before the lock lets
// a failure that waited for it file an earlier time after a later one: a block then ends before
// blocks filed ahead of it, and eviction can keep it too long or drop the wrong one.
func TestFailedReadsTheClockUnderTheLock(t *testing.T) {
	var m *Memory
	reads, free := 0, 0
	now := func() time.Time {
		reads++
		if m.mu.TryLock() {
			m.mu.Unlock()
			free++
		}
		return time.Unix(1000, 0)
	}
	m = NewMemory(Policy{AuthFailures: 2, Window: time.Minute, Cooloff: time.Minute}, now)
	for _, key := range []string{"a", "a", "b"} {
		if _, err := m.Failed(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
	if reads == 0 {
		t.Fatal("the clock was never read")
	}
	if free != 0 {
		t.Errorf("%d of %d clock reads happened without the lock held", free, reads)
	}
}
