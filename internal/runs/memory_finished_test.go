package runs_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// finishedRun starts a TRACKED run of prod/vpc at epoch and returns it already FINISHED.
func finishedRun(t *testing.T) runs.Run {
	t.Helper()
	run, _, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Tracked, Now: epoch, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	run.Phase, run.Scope = runs.Finished, runs.Read
	return run
}

// TestMemoryCreatedFinishedRunHoldsNoToken pins that a run stored already FINISHED does
// not hold its token hash: the token serves nothing, and another run may then be stored under
// the same hash and is the one the token names.
// Guards against: memory.go:Create mapping the token of a run created FINISHED
func TestMemoryCreatedFinishedRunHoldsNoToken(t *testing.T) {
	ctx := context.Background()
	m := runs.NewMemory(func() time.Time { return epoch })
	const token = "brk_run_reused"
	createStored(t, m, storedRun{finishedRun(t), token})
	second := newTracked(t, epoch, time.Hour)
	if err := m.Create(ctx, second, runs.HashToken(token)); err != nil {
		t.Fatalf("Create under the token of a run stored FINISHED: %v; want it accepted", err)
	}
	if got, err := m.GetByToken(ctx, runs.HashToken(token)); err != nil || got.ID != second.ID {
		t.Errorf("GetByToken = %s, %v; want the second run %s", got.ID, err, second.ID)
	}
}

// TestMemoryLenCountsFinishedRuns pins that Len counts every stored run, finished ones
// (whose tokens are revoked) included, until they expire and are removed.
// Guards against: memory.go:Len counting token mappings instead of runs
func TestMemoryLenCountsFinishedRuns(t *testing.T) {
	m := runs.NewMemory(func() time.Time { return epoch })
	run, _ := createAt(t, m, runs.NewRun{Phase: runs.Applying})
	createAt(t, m, runs.NewRun{})
	if _, err := m.Update(context.Background(), run.ID, func(r runs.Run) (runs.Run, error) { return r.MoveTo(runs.Finished) }); err != nil {
		t.Fatal(err)
	}
	createStored(t, m, storedRun{finishedRun(t), "brk_run_finished"})
	if n := m.Len(); n != 3 {
		t.Errorf("Len = %d with one live and two finished runs stored, want 3", n)
	}
}
