package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/runs/runstest"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

func TestRunsContract(t *testing.T) {
	srv := redistest.Start(t)
	runstest.TestStoreWith(t, func(t *testing.T, _ *runstest.FakeClock) runs.Store {
		return open(t, srv, uniquePrefix(), suiteTimeout).Runs()
	}, runstest.Options{RealTime: true})
}

// TestRunsAcrossReplicas drives one run through two clients, as two broker replicas would.
func TestRunsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	a := open(t, srv, prefix, suiteTimeout).Runs()
	b := open(t, srv, prefix, suiteTimeout).Runs()

	run, token := createRun(t, a, time.Hour)
	hash := runs.HashToken(token)
	got, err := b.Get(ctx, run.ID)
	if err != nil || got.Stack != run.Stack {
		t.Fatalf("replica b Get = %+v, %v; want the run created on a", got, err)
	}
	if got, err := b.GetByToken(ctx, hash); err != nil || got.ID != run.ID {
		t.Fatalf("replica b GetByToken = %+v, %v", got, err)
	}
	if _, err := b.Update(ctx, run.ID, moveTo(runs.Planning)); err != nil {
		t.Fatalf("replica b Update to PLANNING: %v", err)
	}
	if got, err := a.GetByToken(ctx, hash); err != nil || got.Phase != runs.Planning {
		t.Fatalf("replica a after b's update = %+v, %v; want PLANNING", got, err)
	}
	if _, err := a.Update(ctx, run.ID, moveTo(runs.Planning)); !errors.Is(err, runs.ErrTransition) {
		t.Errorf("replica a repeating b's transition: %v, want ErrTransition", err)
	}
	if _, err := b.Update(ctx, run.ID, moveTo(runs.Finished)); err != nil {
		t.Fatalf("replica b Update to FINISHED: %v", err)
	}
	for name, s := range map[string]runs.Store{"a": a, "b": b} {
		if _, err := s.GetByToken(ctx, hash); !errors.Is(err, runs.ErrNotFound) {
			t.Errorf("replica %s GetByToken after finish: %v, want ErrNotFound", name, err)
		}
		if got, err := s.Get(ctx, run.ID); err != nil || got.Phase != runs.Finished {
			t.Errorf("replica %s Get after finish = %+v, %v; want FINISHED", name, got, err)
		}
	}
}

// TestRunsTTL checks that Redis itself drops both keys of a run at its ExpiresAt.
func TestRunsTTL(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	rdb := srv.Client()

	run, token := createRun(t, store, 90*time.Minute)
	hash := runs.HashToken(token)
	runKey := prefix + "run:" + run.ID
	tokenKey := prefix + "runtoken:" + hex.EncodeToString(hash[:])
	want := time.Until(run.ExpiresAt)
	for _, key := range []string{runKey, tokenKey} {
		ttl, err := rdb.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", key, err)
		}
		if d := ttl - want; d < -time.Second || d > time.Second {
			t.Errorf("PTTL %s = %s, want %s ± 1s", key, ttl, want)
		}
	}
	if id, err := rdb.Get(ctx, tokenKey).Result(); err != nil || id != run.ID {
		t.Errorf("token key holds %q, %v; want the run id", id, err)
	}

	// An update keeps the expiry; finishing deletes the token key.
	if _, err := store.Update(ctx, run.ID, moveTo(runs.Planning)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if ttl, err := rdb.PTTL(ctx, runKey).Result(); err != nil || ttl <= 0 || ttl > want+time.Second {
		t.Errorf("PTTL after update = %s, %v; want about %s", ttl, err, want)
	}
	if _, err := store.Update(ctx, run.ID, moveTo(runs.Finished)); err != nil {
		t.Fatalf("Update to FINISHED: %v", err)
	}
	if n, err := rdb.Exists(ctx, tokenKey).Result(); err != nil || n != 0 {
		t.Errorf("token key after finish: exists=%d, %v; want gone", n, err)
	}
	if ttl, err := rdb.PTTL(ctx, runKey).Result(); err != nil || ttl <= 0 {
		t.Errorf("PTTL of the finished run = %s, %v; want it still expiring", ttl, err)
	}
}

// TestRunsUpdateMovesExpiry checks that an Update changing ExpiresAt moves both keys' TTL.
func TestRunsUpdateMovesExpiry(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	rdb := srv.Client()

	run, token := createRun(t, store, time.Hour)
	hash := runs.HashToken(token)
	later := run.ExpiresAt.Add(time.Hour)
	if _, err := store.Update(ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		r.ExpiresAt = later
		return r, nil
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := time.Until(later)
	for _, key := range []string{prefix + "run:" + run.ID, prefix + "runtoken:" + hex.EncodeToString(hash[:])} {
		ttl, err := rdb.PTTL(ctx, key).Result()
		if d := ttl - want; err != nil || d < -time.Second || d > time.Second {
			t.Errorf("PTTL %s = %s, %v; want %s ± 1s", key, ttl, err, want)
		}
	}
}

// TestRunsCreatedFinished checks that a run stored already finished has no usable token.
func TestRunsCreatedFinished(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	store := open(t, srv, uniquePrefix(), suiteTimeout).Runs()
	run, token := newRun(t, runs.Tracked, time.Hour)
	run.Phase = runs.Finished
	if err := store.Create(ctx, run, runs.HashToken(token)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := store.GetByToken(ctx, runs.HashToken(token)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken of a run created FINISHED: %v, want ErrNotFound", err)
	}
	if _, err := store.Get(ctx, run.ID); err != nil {
		t.Errorf("Get: %v", err)
	}
}
