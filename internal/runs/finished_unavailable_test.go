package runs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// unreachable is a run store that cannot be reached: every read fails as unavailable, and is
// counted.
type unreachable struct {
	runs.Store
	reads int
}

func (u *unreachable) Get(context.Context, string) (runs.Run, error) {
	u.reads++
	return runs.Run{}, fmt.Errorf("redis: i/o timeout: %w", runs.ErrUnavailable)
}

// A check of a FinishWatch whose store cannot be reached ends at its first read: on the old code
// it read each of the watched runs in turn, each waiting out the store's timeout (with a replica
// that finished 100 runs a second, 12,000 timeouts a check).
func TestFinishWatchStopsAtAnUnreachableStore(t *testing.T) {
	store := &unreachable{}
	w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return time.Unix(1_900_000_000, 0) })
	for i := range 50 {
		w.Note(fmt.Sprintf("run-%d", i))
	}
	w.Check(context.Background())
	if store.reads != 1 {
		t.Errorf("the check read the unreachable store %d times, want 1", store.reads)
	}
}
