package runstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// env is one subtest's store, clock and helpers.
type env struct {
	ctx   context.Context
	clock *FakeClock
	opts  Options
	store runs.Store
}

// now is the time runs are stamped with.
func (e *env) now() time.Time {
	if e.opts.RealTime {
		return time.Now()
	}
	return e.clock.Now()
}

// create starts and stores a run of type typ, returning it and its token.
func (e *env) create(t *testing.T, typ runs.Type, ttl time.Duration) (runs.Run, string) {
	t.Helper()
	run, token, err := runs.New(runs.NewRun{
		Space: "prod", Stack: "vpc-prod", Type: typ, Now: e.now(), TTL: ttl, CreatedBy: "ak_orchestrator",
	})
	if err != nil {
		t.Fatalf("runs.New: %v", err)
	}
	if err := e.store.Create(e.ctx, run, runs.HashToken(token)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return run, token
}

// moveTo is an Update function moving a run to phase p if the phase machine allows it.
func moveTo(p runs.Phase) func(runs.Run) (runs.Run, error) {
	return func(r runs.Run) (runs.Run, error) { return r.MoveTo(p) }
}

// assertSameRun fails unless got and want agree on every field (times by Equal).
func assertSameRun(t *testing.T, got, want runs.Run) {
	t.Helper()
	if got.ID != want.ID || got.Space != want.Space || got.Stack != want.Stack ||
		got.RunType != want.RunType || got.Phase != want.Phase || got.Scope != want.Scope ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.CreatedBy != want.CreatedBy {
		t.Errorf("run mismatch:\n got %+v\nwant %+v", got, want)
	}
}

// assertGone fails unless both lookups report ErrNotFound, the token's first.
func assertGone(t *testing.T, e *env, id, token string) {
	t.Helper()
	if _, err := e.store.GetByToken(e.ctx, runs.HashToken(token)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken error = %v, want ErrNotFound", err)
	}
	if _, err := e.store.Get(e.ctx, id); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Get(%s) error = %v, want ErrNotFound", id, err)
	}
}
