package runs_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
)

// outageStore is a run store whose reads (readsDown) or writes (writesDown) fail as
// unavailable, as Redis's do while no primary answers, or right after a failover while
// min-replicas-to-write is not met (NOREPLICAS).
type outageStore struct {
	runs.Store
	readsDown, writesDown bool
}

func (s *outageStore) Get(ctx context.Context, id string) (runs.Run, error) {
	if s.readsDown {
		return runs.Run{}, fmt.Errorf("redis: i/o timeout: %w", runs.ErrUnavailable)
	}
	return s.Store.Get(ctx, id)
}

func (s *outageStore) Update(
	ctx context.Context, id string, fn func(runs.Run) (runs.Run, error),
) (runs.Run, error) {
	if s.writesDown {
		return runs.Run{}, fmt.Errorf("NOREPLICAS Not enough good replicas: %w", runs.ErrUnavailable)
	}
	return s.Store.Update(ctx, id, fn)
}

// TestFinishWatchOutlastsLongOutage checks that a run this replica finished stays watched until
// the store can be read and written again, however long it was away: a finish lost with the
// store (a crash, a failover to a replica without it) is stored again when the store comes
// back after three minutes, rather than leave the run APPLYING with a token that gets write
// credentials.
func TestFinishWatchOutlastsLongOutage(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		readsDown, writesDown bool
	}{
		{name: "reads and writes fail", readsDown: true, writesDown: true},
		{name: "writes fail (NOREPLICAS)", writesDown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			clock := runstest.NewFakeClock(epoch)
			mem := runs.NewMemory(clock.Now)
			// The store holds the run APPLYING: its finish was lost with the store.
			run, _ := createAt(t, mem, runs.NewRun{Phase: runs.Applying})
			store := &outageStore{Store: mem}
			w := runs.NewFinishWatch(store, slog.New(slog.DiscardHandler), clock.Now)
			w.Note(run.ID)
			store.readsDown, store.writesDown = tc.readsDown, tc.writesDown
			for range 180 { // one check a second for three minutes
				clock.Advance(time.Second)
				w.Check(ctx)
			}
			store.readsDown, store.writesDown = false, false
			clock.Advance(time.Second)
			w.Check(ctx)
			got, err := mem.Get(ctx, run.ID)
			if err != nil || got.Phase != runs.Finished {
				t.Errorf("after the outage the store holds the finished run %s (%v), want it"+
					" finished again", got.Phase, err)
			}
		})
	}
}
