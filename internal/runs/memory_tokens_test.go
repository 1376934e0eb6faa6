package runs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
)

// storedRun is a run and the token it is stored under.
type storedRun struct {
	run   runs.Run
	token string
}

// createStored stores s.run under the hash of s.token in m, failing the test on error.
func createStored(t *testing.T, m *runs.Memory, s storedRun) {
	t.Helper()
	if err := m.Create(context.Background(), s.run, runs.HashToken(s.token)); err != nil {
		t.Fatalf("Create(%s): %v", s.run.ID, err)
	}
}

// newTracked starts a TRACKED run in prod/vpc at now with ttl.
func newTracked(t *testing.T, now time.Time, ttl time.Duration) runs.Run {
	t.Helper()
	run, _, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Tracked, Now: now, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestMemoryTokenHashFreedByExpiryAndFinish pins that a token hash is held only by a live,
// unfinished run: once its run expired (even unswept and unread) or finished, a new run may be
// stored under it and the hash then names the new run, and the old run's removal later does
// not take the new run's token away.
// Guards against: Create refusing a token hash whose run expired, memory.go:Create
// Guards against: Update no longer revoking the token of a run moved to FINISHED, memory.go:Update
// Guards against: revoke deleting the hash even when it names another run, memory.go:revoke
func TestMemoryTokenHashFreedByExpiryAndFinish(t *testing.T) {
	ctx := context.Background()
	const token = "brk_run_shared-token"
	t.Run("expired", func(t *testing.T) {
		clock := runstest.NewFakeClock(epoch)
		m := runs.NewMemory(clock.Now)
		createStored(t, m, storedRun{newTracked(t, clock.Now(), time.Minute), token})
		clock.Advance(2 * time.Minute)
		second := newTracked(t, clock.Now(), time.Hour)
		createStored(t, m, storedRun{second, token})
		if got, err := m.GetByToken(ctx, runs.HashToken(token)); err != nil || got.ID != second.ID {
			t.Errorf("GetByToken = %s, %v; want the second run %s", got.ID, err, second.ID)
		}
	})
	t.Run("finished then removed", func(t *testing.T) {
		clock := runstest.NewFakeClock(epoch)
		m := runs.NewMemory(clock.Now)
		first := newTracked(t, clock.Now(), time.Minute)
		createStored(t, m, storedRun{first, token})
		if _, err := m.Update(ctx, first.ID, func(r runs.Run) (runs.Run, error) { return r.MoveTo(runs.Finished) }); err != nil {
			t.Fatal(err)
		}
		second := newTracked(t, clock.Now(), time.Hour)
		createStored(t, m, storedRun{second, token})
		clock.Advance(2 * time.Minute)
		if _, err := m.Get(ctx, first.ID); !errors.Is(err, runs.ErrNotFound) {
			t.Fatalf("Get(expired first run) = %v, want ErrNotFound", err)
		}
		if got, err := m.GetByToken(ctx, runs.HashToken(token)); err != nil || got.ID != second.ID {
			t.Errorf("GetByToken after the first run's removal = %s, %v; want the second run %s", got.ID, err, second.ID)
		}
	})
}

// TestMemoryTokenLookupHonoursCancelledContext pins that a token lookup with a cancelled
// context fails and serves no run, as every other store call does.
// Guards against: the ctx check dropped, memory.go:GetByTokenVersion
func TestMemoryTokenLookupHonoursCancelledContext(t *testing.T) {
	m := runs.NewMemory(nil)
	run, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Tracked, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	createStored(t, m, storedRun{run, token})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := m.GetByToken(ctx, runs.HashToken(token)); !errors.Is(err, context.Canceled) {
		t.Errorf("GetByToken with a cancelled context = %+v, %v; want context.Canceled", got, err)
	}
	if _, _, err := m.GetByTokenVersion(ctx, runs.HashToken(token)); !errors.Is(err, context.Canceled) {
		t.Errorf("GetByTokenVersion with a cancelled context = %v; want context.Canceled", err)
	}
}
