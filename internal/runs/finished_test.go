package runs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// TestFinishWatch: a run this replica finished that the store then holds unfinished (it went
// back, 45 s later, as a failover takes) is finished again at the next check; one watched past
// FinishWatchFor, or gone from the store, is left alone.
func TestFinishWatch(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	store := runs.NewMemory(clock)
	start := func() runs.Run {
		t.Helper()
		run, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Tracked, Phase: runs.Applying, Now: now, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Create(ctx, run, runs.HashToken(token)); err != nil {
			t.Fatal(err)
		}
		return run
	}
	setPhase := func(id string, p runs.Phase) {
		t.Helper()
		if _, err := store.Update(ctx, id, func(cur runs.Run) (runs.Run, error) {
			cur.Phase, cur.Scope = p, runs.ScopeOf(cur.RunType, p)
			return cur, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	phase := func(id string) runs.Phase {
		t.Helper()
		run, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return run.Phase
	}
	w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(io.Discard, nil)), clock)
	watched, late := start(), start()
	for _, r := range []runs.Run{watched, late} {
		setPhase(r.ID, runs.Finished)
	}
	w.Note(late.ID)
	now = now.Add(runs.FinishWatchFor + time.Second)
	w.Note(watched.ID)
	// The store goes back with a Sentinel failover: 30 s before the primary is judged down, and
	// the election; the watch outlasts it.
	now = now.Add(45 * time.Second)
	for _, r := range []runs.Run{watched, late} {
		setPhase(r.ID, runs.Applying) // the store went back
	}
	w.Check(ctx)
	if got := phase(watched.ID); got != runs.Finished {
		t.Errorf("the watched run is %s after the check, want FINISHED", got)
	}
	if got := phase(late.ID); got != runs.Applying {
		t.Errorf("a run past its watch is %s after the check, want it left APPLYING", got)
	}
}
