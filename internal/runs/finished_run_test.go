package runs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// TestFinishWatchRunChecks pins that FinishWatch.Run checks on its ticker (a run this
// replica finished that the store then holds unfinished is finished again without anyone
// calling Check), and that it returns once its context ends.
// Guards against: internal/runs/finished.go:93 Run's tick no longer calls f.Check
func TestFinishWatchRunChecks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	store := runs.NewMemory(clock)
	run, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Tracked, Phase: runs.Applying, Now: now, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Create(ctx, run, runs.HashToken(token)); err != nil {
		t.Fatal(err)
	}
	w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(io.Discard, nil)), clock)
	w.Note(run.ID)
	// The store went back: it holds the finished run in APPLYING.
	if _, err := store.Update(ctx, run.ID, func(cur runs.Run) (runs.Run, error) { return cur, nil }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx, time.Millisecond) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, err := store.Get(context.Background(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Phase == runs.Finished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run did not finish the run again within 2s: it is %s", got.Phase)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
