package server

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestSweepRunsDropsExpiredRunsOnEachTick drives sweepRuns with hand-fed ticks over a memory
// store on a fake clock: expired runs nobody touches are dropped, live ones stay, and the loop
// ends with its context.
func TestSweepRunsDropsExpiredRunsOnEachTick(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := fakeclock.New(start)
	store := runs.NewMemory(clock.Now)
	for i, ttl := range []time.Duration{time.Hour, time.Hour, 5 * time.Hour} {
		run, token, err := runs.New(runs.NewRun{Space: "root", Stack: "s", Type: runs.Tracked, Phase: runs.Initializing, Now: start, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Create(context.Background(), run, runs.HashToken(token)); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		sweepRuns(ctx, ticks, store.Sweep, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	// An unbuffered send returns once the loop has taken the tick; the second send returns only
	// after the first sweep has finished.
	tick := func() { ticks <- clock.Now(); ticks <- clock.Now() }

	tick()
	if n := store.Len(); n != 3 {
		t.Fatalf("before expiry: %d runs stored, want 3", n)
	}
	clock.Advance(2 * time.Hour)
	tick()
	if n := store.Len(); n != 1 {
		t.Fatalf("after two runs expired: %d runs stored, want 1", n)
	}
	clock.Advance(3 * time.Hour)
	tick()
	if n := store.Len(); n != 0 {
		t.Fatalf("after every run expired: %d runs stored, want 0", n)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("sweepRuns did not return when its context ended")
	}
}

// TestServerSweepsExpiredRuns requires a replica with the in-memory store to free runs that
// expire untouched, without any request reaching them.
func TestServerSweepsExpiredRuns(t *testing.T) {
	clock := fakeclock.New(time.Now())
	ts := startServer(t, serverOptions{now: clock.Now, sweepInterval: 5 * time.Millisecond})
	store := ts.srv.state.runs.(*runs.Memory)
	ts.createRun(t, "vpc-prod", "TRACKED")
	ts.createRun(t, "app-a", "PROPOSED")
	if n := store.Len(); n != 2 {
		t.Fatalf("%d runs stored, want 2", n)
	}
	clock.Advance(3*time.Hour + time.Second) // runs.ttl is 3h
	deadline := time.Now().Add(10 * time.Second)
	for store.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d expired runs still in memory", store.Len())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
