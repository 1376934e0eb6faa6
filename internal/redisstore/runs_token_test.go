package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCreateRefusesATakenToken: a run whose token hash already names another
// live run is refused (ErrExists, createScript's "return 2"), and the token keeps naming the
// first run: a second Create must never take over the first run's token.
func TestCreateRefusesATakenToken(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	store := open(t, srv, uniquePrefix(), suiteTimeout).Runs()
	first, token := createRun(t, store, time.Hour)
	second, _ := newRun(t, runs.Tracked, time.Hour)
	if err := store.Create(ctx, second, runs.HashToken(token)); !errors.Is(err, runs.ErrExists) {
		t.Errorf("Create of a second run with the first run's token: %v, want ErrExists", err)
	}
	if got, err := store.GetByToken(ctx, runs.HashToken(token)); err != nil || got.ID != first.ID {
		t.Errorf("GetByToken after the second Create = %s, %v; want the first run %s", got.ID, err, first.ID)
	}
}

// TestFinishedRunTokenKeyLeftBehindNamesNoRun: a run token whose token key is still in Redis
// after its run finished (left by hand, restored, or a DEL lost) names no run: GetByToken
// checks the record's phase (runs.go getByToken), so a finished run gets nothing.
func TestFinishedRunTokenKeyLeftBehindNamesNoRun(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	run, token := createRun(t, store, time.Hour)
	hash := runs.HashToken(token)
	if _, err := store.Update(ctx, run.ID, moveTo(runs.Finished)); err != nil {
		t.Fatalf("finish: %v", err)
	}
	key := prefix + "runtoken:" + hex.EncodeToString(hash[:])
	if err := srv.Client().Set(ctx, key, run.ID, time.Hour).Err(); err != nil {
		t.Fatalf("SET %s: %v", key, err)
	}
	// A fresh client: nothing cached.
	other := open(t, srv, prefix, suiteTimeout).Runs()
	if got, err := other.GetByToken(ctx, hash); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken of a finished run whose token key was left = %s %s, %v; want ErrNotFound", got.ID, got.Phase, err)
	}
}
