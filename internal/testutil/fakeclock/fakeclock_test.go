package fakeclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := fakeclock.New(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	c.Advance(90 * time.Second)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Advance: Now() = %v, want %v", got, want)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Errorf("after Set: Now() = %v, want %v", got, start)
	}
}

func TestClockConcurrent(t *testing.T) {
	start := time.Unix(1000, 0)
	c := fakeclock.New(start)
	now := c.Now // the method value code under test holds
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = now()
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v after 10 concurrent Advance(1s), want %v", got, want)
	}
}
