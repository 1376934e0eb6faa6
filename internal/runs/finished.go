package runs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// FinishWatchFor is how long a FinishWatch watches a run after its finish, or after a check
// last found the store unable to read it or finish it again: longer than a Redis failover takes
// to be decided and carried out (Sentinel's down-after-milliseconds is 30 s by default, and the
// failover a few seconds more), so a finish the failover lost is found after it, however long
// the store was away. Each check reads every run finished in that long, one read each.
const FinishWatchFor = 2 * time.Minute

// FinishWatch remembers the runs this replica finished, for FinishWatchFor, and finishes again
// each one its store holds unfinished: a store that went back (a failover to a replica that had
// not received the finish) would otherwise hand out a finished run's tokens, at write too.
// A run the store no longer has (expired, or lost with the store) needs nothing.
type FinishWatch struct {
	store Store
	log   *slog.Logger
	now   func() time.Time

	mu    sync.Mutex
	watch map[string]time.Time // run id → end of its watch
	// record, when set, records each run finished again (see RecordWith).
	record func(ctx context.Context, ended Run, from Phase) error
}

// RecordWith has fn record each run the watch finishes again, as ended (FINISHED) and from the
// phase the store held, before it is stored: a finish written back is a stored change, and
// every stored change is in the trail. A record that fails is logged and the run finished
// again all the same: the finish takes a write token away, and waiting for the trail would
// leave it working.
func (f *FinishWatch) RecordWith(fn func(ctx context.Context, ended Run, from Phase) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record = fn
}

// NewFinishWatch returns a FinishWatch over store; now is the clock (time.Now when nil).
func NewFinishWatch(store Store, log *slog.Logger, now func() time.Time) *FinishWatch {
	if now == nil {
		now = time.Now
	}
	return &FinishWatch{store: store, log: log, now: now, watch: map[string]time.Time{}}
}

// Note records that this replica finished the run id.
func (f *FinishWatch) Note(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watch[id] = f.now().Add(FinishWatchFor)
}

// Check reads every watched run and finishes again each one the store holds unfinished. A store
// that cannot be reached ends the check at its first read, rather than make each of the watched
// runs wait out the store's timeout in turn.
func (f *FinishWatch) Check(ctx context.Context) {
	f.mu.Lock()
	now, ids := f.now(), make([]string, 0, len(f.watch))
	for id, until := range f.watch {
		if now.After(until) {
			delete(f.watch, id)
			continue
		}
		ids = append(ids, id)
	}
	f.mu.Unlock()
	// A run not confirmed finished stays watched FinishWatchFor past this check: the time the
	// store could not be read or written does not use up its watch.
	keepUntil := now.Add(FinishWatchFor)
	for i, id := range ids {
		run, err := f.store.Get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			f.forget(id)
			continue
		case errors.Is(err, ErrUnavailable) || ctx.Err() != nil:
			if ctx.Err() == nil {
				f.keep(ids[i:], keepUntil)
			}
			return // the store is unreachable: the next check reads every run again
		case err != nil || run.Phase == Finished:
			continue // unreadable now: the next check reads it again
		}
		f.log.WarnContext(ctx, "runs: the store holds unfinished a run this replica finished (it went back); finishing it again",
			"run", id, "phase", string(run.Phase))
		f.recordAgain(ctx, run)
		_, err = f.store.Update(ctx, id, func(cur Run) (Run, error) {
			if cur.Phase == Finished {
				return cur, nil
			}
			return cur.MoveTo(Finished)
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			f.log.WarnContext(ctx, "runs: could not finish the run again; trying at the next check", "run", id, "err", err)
			f.keep(ids[i:i+1], keepUntil)
		}
	}
}

// recordAgain records the finish of run, as the store holds it, that Check is about to store
// again (see RecordWith).
func (f *FinishWatch) recordAgain(ctx context.Context, run Run) {
	f.mu.Lock()
	record := f.record
	f.mu.Unlock()
	ended, err := run.MoveTo(Finished)
	if record == nil || err != nil {
		return
	}
	if err := record(ctx, ended, run.Phase); err != nil {
		f.log.WarnContext(ctx, "runs: could not record finishing the run again; finishing it all the same", "run", run.ID, "err", err)
	}
}

// Run checks every interval until ctx ends.
func (f *FinishWatch) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Check(ctx)
		}
	}
}

// keep watches each of ids that is still watched until at least until.
func (f *FinishWatch) keep(ids []string, until time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if u, ok := f.watch[id]; ok && u.Before(until) {
			f.watch[id] = until
		}
	}
}

func (f *FinishWatch) forget(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.watch, id)
}
