package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// tokenKeyOf is the Redis key of token's token key on c.
func tokenKeyOf(c *redisstore.Client, token string) string {
	h := runs.HashToken(token)
	return c.Prefix() + "runtoken:" + hex.EncodeToString(h[:])
}

// TestCreateFinishedRunStoresNoToken pins that a run created already finished has no
// token key at all: its token can never name it, not even by a key left behind.
// Guards against: createScript stores the token key of a finished run too (runs.go:createScript)
func TestCreateFinishedRunStoresNoToken(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	run, token := newRun(t, runs.Tracked, time.Hour)
	run.Phase = runs.Finished
	if err := c.Runs().Create(ctx, run, runs.HashToken(token)); err != nil {
		t.Fatalf("Create of a finished run: %v", err)
	}
	if n, err := c.Redis().Exists(ctx, tokenKeyOf(c, token)).Result(); err != nil || n != 0 {
		t.Error("a run created finished has a token key")
	}
	if _, err := c.Runs().GetByToken(ctx, runs.HashToken(token)); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken of a run created finished: %v, want ErrNotFound", err)
	}
}

// TestCreateAgainAfterTokenKeyLost pins that Create sent again for a stored run whose
// token key is gone reports the id as taken rather than success: success would promise a
// token that names no run.
// Guards against: createScript's replay check ignores the token key (runs.go:createScript)
func TestCreateAgainAfterTokenKeyLost(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	run, token := createRun(t, c.Runs(), time.Hour)
	if err := c.Redis().Del(ctx, tokenKeyOf(c, token)).Err(); err != nil {
		t.Fatalf("DEL token key: %v", err)
	}
	if err := c.Runs().Create(ctx, run, runs.HashToken(token)); !errors.Is(err, runs.ErrExists) {
		t.Fatalf("Create again without the token key: %v, want ErrExists", err)
	}
}

// TestExpiryAtOrBeforeEpoch pins that a run whose expiry is at or before the Unix epoch
// is stored as already expired (Create and Update succeed, the run is not served) rather than
// making Redis reject the write.
// Guards against: expiryMillis without its floor of 1 ms (runs.go:expiryMillis)
func TestExpiryAtOrBeforeEpoch(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	store := c.Runs()
	run, token := newRun(t, runs.Tracked, time.Hour)
	run.ExpiresAt = time.Unix(0, 0)
	if err := store.Create(ctx, run, runs.HashToken(token)); err != nil {
		t.Fatalf("Create with expiry at the epoch: %v", err)
	}
	if _, err := store.Get(ctx, run.ID); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Get of a run expired at creation: %v, want ErrNotFound", err)
	}
	live, _ := createRun(t, store, time.Hour)
	_, err := store.Update(ctx, live.ID, func(r runs.Run) (runs.Run, error) {
		r.ExpiresAt = time.Unix(0, 0)
		return r, nil
	})
	if err != nil {
		t.Fatalf("Update moving the expiry to the epoch: %v", err)
	}
	if _, err := store.Get(ctx, live.ID); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Get of a run expired by Update: %v, want ErrNotFound", err)
	}
}
