package runs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
)

// watchStore wraps a run store for a FinishWatch: each read reports the run in phase
// stale (as a store that went back would) and then calls afterRead; when update is set, every
// update fails with it.
type watchStore struct {
	runs.Store
	stale     runs.Phase
	afterRead func()
	update    error
}

func (s *watchStore) Get(ctx context.Context, id string) (runs.Run, error) {
	run, err := s.Store.Get(ctx, id)
	if err == nil {
		run.Phase, run.Scope = s.stale, runs.ScopeOf(run.RunType, s.stale)
	}
	if s.afterRead != nil {
		s.afterRead()
	}
	return run, err
}

func (s *watchStore) Update(ctx context.Context, id string, fn func(runs.Run) (runs.Run, error)) (runs.Run, error) {
	if s.update != nil {
		return runs.Run{}, s.update
	}
	return s.Store.Update(ctx, id, fn)
}

// TestFinishWatchLastsTwoMinutes pins that a finished run stays watched for two
// minutes after its finish, the end included: a check exactly two minutes later still
// finishes again a run the store holds unfinished.
// Guards against: finished.go:FinishWatchFor shortened below two minutes
// Guards against: finished.go:a watch dropped at its end instant (now.After to !now.Before)
func TestFinishWatchLastsTwoMinutes(t *testing.T) {
	ctx := context.Background()
	clock := runstest.NewFakeClock(epoch)
	m := runs.NewMemory(clock.Now)
	run, _ := createAt(t, m, runs.NewRun{Phase: runs.Applying})
	w := runs.NewFinishWatch(m, slog.New(slog.DiscardHandler), clock.Now)
	w.Note(run.ID)
	clock.Advance(2 * time.Minute)
	w.Check(ctx)
	if got, err := m.Get(ctx, run.ID); err != nil || got.Phase != runs.Finished {
		t.Errorf("two minutes after the finish the check left the run %s, %v; want FINISHED", got.Phase, err)
	}
}

// TestFinishWatchLogs pins what a check logs about a watched run the store holds
// unfinished: a warning naming the run that it is being finished again; a warning that it
// could not be finished when the update fails; and no such failure when the run is gone from
// the store by the time of the update (it expired: nothing is left to finish).
// Guards against: finished.go:the "went back" warning dropped
// Guards against: finished.go:the "could not finish" warning dropped
// Guards against: finished.go:a run gone before the update logged as a failure (ErrNotFound not
// excepted)
func TestFinishWatchLogs(t *testing.T) {
	for _, tc := range []struct {
		name            string
		update          error
		expireAfterRead bool
		want, notWant   []string
	}{
		{name: "finished again", want: []string{"went back", "APPLYING"}, notWant: []string{"could not finish"}},
		{name: "update fails", update: errors.New("compare-and-swap conflict"), want: []string{"went back", "could not finish", "compare-and-swap conflict"}},
		{name: "gone before the update", expireAfterRead: true, want: []string{"went back"}, notWant: []string{"could not finish"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := runstest.NewFakeClock(epoch)
			m := runs.NewMemory(clock.Now)
			run, _ := createAt(t, m, runs.NewRun{Phase: runs.Applying, TTL: time.Minute})
			store := &watchStore{Store: m, stale: runs.Applying, update: tc.update}
			if tc.expireAfterRead {
				store.afterRead = func() { clock.Set(run.ExpiresAt) }
			}
			var logs bytes.Buffer
			w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return epoch })
			w.Note(run.ID)
			w.Check(context.Background())
			out := logs.String()
			for _, s := range append(tc.want, run.ID) {
				if !strings.Contains(out, s) {
					t.Errorf("logs lack %q:\n%s", s, out)
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(out, s) {
					t.Errorf("logs hold %q:\n%s", s, out)
				}
			}
		})
	}
}
