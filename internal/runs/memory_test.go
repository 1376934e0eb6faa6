package runs_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
)

func TestMemoryStore(t *testing.T) {
	runstest.TestStore(t, func(_ *testing.T, clock *runstest.FakeClock) runs.Store {
		return runs.NewMemory(clock.Now)
	})
}

// TestMemoryStoreRealTime exercises the suite's wall-clock mode (the one a Redis store uses)
// with the memory store on time.Now. It waits out a 2s TTL, so -short skips it.
func TestMemoryStoreRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a real-time expiry")
	}
	runstest.TestStoreWith(t, func(_ *testing.T, _ *runstest.FakeClock) runs.Store {
		return runs.NewMemory(time.Now)
	}, runstest.Options{RealTime: true})
}

func TestMemorySweep(t *testing.T) {
	clock := runstest.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	m := runs.NewMemory(clock.Now)
	ctx := context.Background()
	for _, ttl := range []time.Duration{time.Minute, time.Minute, time.Hour} {
		run, token, err := runs.New(runs.NewRun{
			Space: "prod", Stack: "vpc-prod", Type: runs.Tracked, Now: clock.Now(), TTL: ttl,
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if err := m.Create(ctx, run, runs.HashToken(token)); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	if n := m.Sweep(); n != 0 {
		t.Errorf("Sweep before expiry removed %d runs, want 0", n)
	}
	clock.Advance(2 * time.Minute)
	if n := m.Sweep(); n != 2 {
		t.Errorf("Sweep removed %d runs, want 2", n)
	}
	if n := m.Len(); n != 1 {
		t.Errorf("Len after Sweep = %d, want 1", n)
	}
}

func TestMemoryCancelledContext(t *testing.T) {
	m := runs.NewMemory(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Ping(ctx); err == nil {
		t.Error("Ping with a cancelled context succeeded")
	}
	if _, err := m.Get(ctx, "x"); err == nil {
		t.Error("Get with a cancelled context succeeded")
	}
}
