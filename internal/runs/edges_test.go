package runs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
)

var epoch = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// countingStore counts the reads by id of the store it wraps; when stale is set, each read
// reports the run unfinished in that phase, as a store that went back would.
type countingStore struct {
	runs.Store
	reads int
	stale runs.Phase
}

func (s *countingStore) Get(ctx context.Context, id string) (runs.Run, error) {
	s.reads++
	run, err := s.Store.Get(ctx, id)
	if err == nil && s.stale != "" {
		run.Phase, run.Scope = s.stale, runs.ScopeOf(run.RunType, s.stale)
	}
	return run, err
}

// createAt starts a TRACKED run of prod/vpc with cfg's phase, start (epoch when zero) and
// TTL (an hour when zero), and stores it in m.
func createAt(t *testing.T, m *runs.Memory, cfg runs.NewRun) (runs.Run, string) {
	t.Helper()
	cfg.Space, cfg.Stack, cfg.Type = "prod", "vpc", runs.Tracked
	if cfg.Now.IsZero() {
		cfg.Now = epoch
	}
	if cfg.TTL == 0 {
		cfg.TTL = time.Hour
	}
	run, token, err := runs.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(context.Background(), run, runs.HashToken(token)); err != nil {
		t.Fatal(err)
	}
	return run, token
}

// TestNewRecordsCreatedBy pins that New records the key that started the run, by which the
// run ends when that key does.
// Guards against: CreatedBy left out of the run, new.go:New
func TestNewRecordsCreatedBy(t *testing.T) {
	run, _, err := runs.New(runs.NewRun{Space: "s", Stack: "st", Type: runs.Task, TTL: time.Hour, CreatedBy: "ak_ci"})
	if err != nil || run.CreatedBy != "ak_ci" {
		t.Errorf("New = %+v, %v; want CreatedBy ak_ci", run, err)
	}
}

// TestTokenOfExpiredRunRefused pins that a run's token stops working at its expiry even when
// nothing read the run by id first: GetByToken and GetByTokenVersion both report ErrNotFound, and
// WhileUnchanged refuses the Version read before expiry.
// Guards against: the token lookup reading the entry without the expiry check,
// memory.go:byTokenLive
func TestTokenOfExpiredRunRefused(t *testing.T) {
	clock := runstest.NewFakeClock(epoch)
	m := runs.NewMemory(clock.Now)
	run, token := createAt(t, m, runs.NewRun{Phase: runs.Applying, TTL: time.Minute})
	_, v, err := m.GetByTokenVersion(context.Background(), runs.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(run.ExpiresAt)
	if got, err := m.GetByToken(context.Background(), runs.HashToken(token)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken at expiry = %+v, %v; want ErrNotFound", got, err)
	}
	if got, _, err := m.GetByTokenVersion(context.Background(), runs.HashToken(token)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByTokenVersion at expiry = %+v, %v; want ErrNotFound", got, err)
	}
	if err := m.WhileUnchanged(v, func() error { return nil }); !errors.Is(err, runs.ErrChanged) {
		t.Errorf("WhileUnchanged at expiry = %v, want ErrChanged", err)
	}
}

// TestExpiredRunRemovedWhenTouched pins that an expired run is dropped from memory the
// first time it is read, without waiting for a Sweep.
// Guards against: live() no longer removing an expired entry, memory.go:live
func TestExpiredRunRemovedWhenTouched(t *testing.T) {
	clock := runstest.NewFakeClock(epoch)
	m := runs.NewMemory(clock.Now)
	run, _ := createAt(t, m, runs.NewRun{TTL: time.Minute})
	clock.Set(run.ExpiresAt)
	if _, err := m.Get(context.Background(), run.ID); !errors.Is(err, runs.ErrNotFound) {
		t.Fatalf("Get at expiry = %v, want ErrNotFound", err)
	}
	if n := m.Len(); n != 0 {
		t.Errorf("Len after reading the expired run = %d, want 0", n)
	}
}

// TestWhileUnchangedChecksRunID pins that a Version is honoured only for the run it names:
// the right token and digest with another run's id is refused and fn does not run.
// Guards against: the run id comparison dropped, memory.go:WhileUnchanged
func TestWhileUnchangedChecksRunID(t *testing.T) {
	m := runs.NewMemory(func() time.Time { return epoch })
	_, token := createAt(t, m, runs.NewRun{})
	_, v, err := m.GetByTokenVersion(context.Background(), runs.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	v.ID = "01OTHERRUN0000000000000000"
	ran := false
	if err := m.WhileUnchanged(v, func() error { ran = true; return nil }); !errors.Is(err, runs.ErrChanged) || ran {
		t.Errorf("WhileUnchanged(another run's id) = %v, fn ran=%v; want ErrChanged and fn not run", err, ran)
	}
}

// TestFinishWatchRestoresReadScope pins that a run finished again by a FinishWatch is a
// consistent FINISHED record with read scope, not a FINISHED run still marked write.
// Guards against: the phase set to FINISHED without MoveTo (scope kept), finished.go:Check
func TestFinishWatchRestoresReadScope(t *testing.T) {
	ctx := context.Background()
	m := runs.NewMemory(func() time.Time { return epoch })
	run, _ := createAt(t, m, runs.NewRun{Phase: runs.Applying})
	w := runs.NewFinishWatch(m, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return epoch })
	w.Note(run.ID)
	w.Check(ctx)
	got, err := m.Get(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if scope, err := got.EffectiveScope(); got.Phase != runs.Finished || err != nil || scope != runs.Read {
		t.Errorf("after the check: %+v, EffectiveScope %q, %v; want a consistent FINISHED run with read scope", got, scope, err)
	}
}

// TestFinishWatchDefaultClock pins that a FinishWatch made without a clock uses the wall
// clock rather than crash.
// Guards against: the nil clock left nil, finished.go:NewFinishWatch
func TestFinishWatchDefaultClock(t *testing.T) {
	m := runs.NewMemory(nil)
	run, _ := createAt(t, m, runs.NewRun{Now: time.Now(), Phase: runs.Applying})
	w := runs.NewFinishWatch(m, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	w.Note(run.ID)
	w.Check(context.Background())
	if got, err := m.Get(context.Background(), run.ID); err != nil || got.Phase != runs.Finished {
		t.Errorf("after the check: %+v, %v; want FINISHED", got, err)
	}
}

// TestFinishWatchQuietOnFinishedRuns pins that a check logs nothing about a watched run the
// store holds FINISHED, and that a run found finished between the read and the update (the
// update sees FINISHED) is left as it is without a failure being logged.
// Guards against: FINISHED runs no longer skipped after the read, finished.go:Check
// Guards against: the update's FINISHED guard dropped (MoveTo fails on it), finished.go:Check
func TestFinishWatchQuietOnFinishedRuns(t *testing.T) {
	ctx := context.Background()
	for _, stale := range []runs.Phase{"", runs.Applying} {
		m := runs.NewMemory(func() time.Time { return epoch })
		run, _ := createAt(t, m, runs.NewRun{Phase: runs.Applying})
		if _, err := m.Update(ctx, run.ID, func(r runs.Run) (runs.Run, error) { return r.MoveTo(runs.Finished) }); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		store := &countingStore{Store: m, stale: stale}
		w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(&logs, nil)), func() time.Time { return epoch })
		w.Note(run.ID)
		w.Check(ctx)
		switch {
		case stale == "" && logs.Len() != 0:
			t.Errorf("a check of a FINISHED run logged: %s", logs.String())
		case strings.Contains(logs.String(), "could not finish"):
			t.Errorf("a run finished meanwhile logged a failure: %s", logs.String())
		}
	}
}

// TestFinishWatchStopsOnCancelledContext pins that a check whose context has ended stops
// at its first read instead of reading every watched run.
// Guards against: `ctx.Err() != nil` dropped from the stop condition, finished.go:Check
func TestFinishWatchStopsOnCancelledContext(t *testing.T) {
	store := &countingStore{Store: runs.NewMemory(func() time.Time { return epoch })}
	w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return epoch })
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		w.Note(id)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.Check(ctx)
	if store.reads != 1 {
		t.Errorf("a check with an ended context read %d runs, want 1", store.reads)
	}
}

// TestFinishWatchForgetsGoneRuns pins that a watched run the store no longer has is
// forgotten: the next check does not read it again.
// Guards against: forget not called on ErrNotFound, finished.go:Check
func TestFinishWatchForgetsGoneRuns(t *testing.T) {
	store := &countingStore{Store: runs.NewMemory(func() time.Time { return epoch })}
	w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return epoch })
	w.Note("gone")
	w.Check(context.Background())
	w.Check(context.Background())
	if store.reads != 1 {
		t.Errorf("two checks read the gone run %d times, want 1", store.reads)
	}
}
