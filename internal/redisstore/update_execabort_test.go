package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestUpdateRefusedWriteIsUnavailable checks the rule that a Redis which refuses writes
// for now (here: full, maxmemory reached under noeviction) makes Runs().Update fail with an
// error wrapping runs.ErrUnavailable and redisstore.ErrUnavailable, as Create does, so that
// the API answers 503 rather than 500. Inside Update's MULTI/EXEC the refusal of the queued
// SET comes back as EXECABORT on EXEC.
func TestUpdateRefusedWriteIsUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	c := open(t, srv, uniquePrefix(), suiteTimeout)
	store := c.Runs()
	run, _ := createRun(t, store, time.Hour)
	admin := srv.Client()
	ctx := context.Background()
	if err := admin.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatalf("CONFIG SET maxmemory: %v", err)
	}
	t.Cleanup(func() { _ = admin.ConfigSet(context.Background(), "maxmemory", "0").Err() })

	// Create is refused through a script: the server's OOM reply is seen as unavailability.
	other, token := newRun(t, runs.Tracked, time.Hour)
	err := store.Create(ctx, other, runs.HashToken(token))
	if !errors.Is(err, runs.ErrUnavailable) {
		t.Fatalf("Create on a full Redis: %v, want runs.ErrUnavailable", err)
	}
	_, err = store.Update(ctx, run.ID, moveTo(runs.Finished))
	if !errors.Is(err, runs.ErrUnavailable) || !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Update on a full Redis: %v, want runs.ErrUnavailable and redisstore.ErrUnavailable", err)
	}
}
