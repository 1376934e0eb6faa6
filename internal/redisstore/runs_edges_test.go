package redisstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestRunPastExpiryNotServed: a run past its ExpiresAt whose keys Redis still holds (a
// lagging Redis clock, a PERSIST by hand) is never served: Get, GetByToken, Update and the
// run cache all treat it as gone.
// Guards against: runs.go:133 drop expired check in Get
// Guards against: runs.go:188 drop "|| expired(rec.Run)" in getByToken
// Guards against: runs.go:286 drop expired check in updateOnce
// Guards against: runcache.go:60 drop "|| e.run.Phase == runs.Finished || expired(e.run)" in get
func TestRunPastExpiryNotServed(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	store := c.Runs()
	run, token := newRun(t, runs.Tracked, time.Hour)
	run.ExpiresAt = time.Now().Add(500 * time.Millisecond) // room to cache it while live, even under -race
	hash := runs.HashToken(token)
	if err := store.Create(ctx, run, hash); err != nil {
		t.Fatalf("Create: %v", err)
	}
	// Cache the run while it is live.
	if _, err := store.GetByToken(ctx, hash); err != nil {
		t.Fatalf("GetByToken while live: %v", err)
	}
	// Redis keeps both keys past the run's expiry.
	for _, k := range []string{prefix + "run:" + run.ID, prefix + "runtoken:" + hex.EncodeToString(hash[:])} {
		if err := srv.Client().Persist(ctx, k).Err(); err != nil {
			t.Fatalf("PERSIST %s: %v", k, err)
		}
	}
	time.Sleep(time.Until(run.ExpiresAt) + 10*time.Millisecond)

	if _, _, ok := store.(runs.Cache).Cached(hash); ok {
		t.Error("Cached serves a run past its expiry")
	}
	fresh := open(t, srv, prefix, suiteTimeout).Runs()
	if got, err := fresh.Get(ctx, run.ID); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Get of a run past its expiry = %s, %v; want ErrNotFound", got.ID, err)
	}
	if got, err := fresh.GetByToken(ctx, hash); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken of a run past its expiry = %s, %v; want ErrNotFound", got.ID, err)
	}
	called := false
	_, err := fresh.Update(ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		called = true
		r.ExpiresAt = time.Now().Add(time.Hour)
		return r, nil
	})
	if !errors.Is(err, runs.ErrNotFound) || called {
		t.Errorf("Update of a run past its expiry: %v (fn called: %v); want ErrNotFound, fn not called", err, called)
	}
}

// TestTokenKeyNamingAnotherRun: a token key that names a run whose record holds another
// token's hash (left or rewritten by hand) does not hand that run to the token's bearer.
// Guards against: runs.go:188 drop "rec.TokenHash != hash ||" in getByToken
func TestTokenKeyNamingAnotherRun(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	_, tokenA := createRun(t, store, time.Hour)
	runB, _ := createRun(t, store, time.Hour)
	hashA := runs.HashToken(tokenA)
	key := prefix + "runtoken:" + hex.EncodeToString(hashA[:])
	if err := srv.Client().Set(ctx, key, runB.ID, time.Hour).Err(); err != nil {
		t.Fatalf("SET %s: %v", key, err)
	}
	fresh := open(t, srv, prefix, suiteTimeout).Runs()
	if got, err := fresh.GetByToken(ctx, hashA); !errors.Is(err, runs.ErrNotFound) {
		t.Errorf("GetByToken of token A whose key names run B = %s, %v; want ErrNotFound", got.ID, err)
	}
}

// TestRunRecordOfAnotherID: a run key holding the record of another run (changed by hand)
// is a corrupted record, never served as the run asked for.
// Guards against: runs.go:338 drop "|| (id != \"\" && rec.ID != id)" in decodeRun
func TestRunRecordOfAnotherID(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	runA, _ := createRun(t, store, time.Hour)
	runB, _ := createRun(t, store, time.Hour)
	rdb := srv.Client()
	dataB, err := rdb.Get(ctx, prefix+"run:"+runB.ID).Result()
	if err != nil {
		t.Fatalf("GET run B: %v", err)
	}
	if err := rdb.Set(ctx, prefix+"run:"+runA.ID, dataB, time.Hour).Err(); err != nil {
		t.Fatalf("SET run A: %v", err)
	}
	if got, err := store.Get(ctx, runA.ID); err == nil || errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Get(A) with B's record = %s, %v; want a corruption error", got.ID, err)
	}
	if _, err := store.Update(ctx, runA.ID, moveTo(runs.Planning)); err == nil {
		t.Error("Update(A) with B's record succeeded; want a corruption error")
	}
}

// TestCheckedAppendTokenKeyGone: an append checked against a run's Version fails with
// ErrChanged once the run's token key is gone (revoked by hand), even though the run record
// itself is unchanged; nothing is appended.
// Guards against: audit.go:39 drop the token-key check of appendBatchScript
func TestCheckedAppendTokenKeyGone(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	store := c.Runs()
	run, token := createRun(t, store, time.Hour)
	hash := runs.HashToken(token)
	got, v, err := store.(runs.Versioned).GetByTokenVersion(ctx, hash)
	if err != nil || v.IsZero() {
		t.Fatalf("GetByTokenVersion: %v, %+v", err, v)
	}
	if err := srv.Client().Del(ctx, prefix+"runtoken:"+hex.EncodeToString(hash[:])).Err(); err != nil {
		t.Fatalf("DEL token key: %v", err)
	}
	trail := c.Audit()
	if _, err := trail.(audit.CheckedStore).AppendChecked(ctx, tokenEvent("ev-1", got), []string{run.Space}, v); !errors.Is(err, runs.ErrChanged) {
		t.Errorf("AppendChecked after the token key was deleted: %v, want ErrChanged", err)
	}
	if h, err := trail.Head(ctx); err != nil || h.Count != 0 {
		t.Errorf("Head after a refused append = %d, %v; want 0 events", h.Count, err)
	}
}

// TestClusterVersionIsZero: on a Redis Cluster, whose audit appends cannot check a run,
// GetByTokenVersion gives the zero Version (so the token path appends unchecked instead of
// failing every token with ErrChanged), and Cached never serves a run.
// Guards against: runs.go:150 "if err != nil || s.c.cluster {" -> "if err != nil {"
func TestClusterVersionIsZero(t *testing.T) {
	ctx := context.Background()
	c := openCluster(t, cluster(t), uniquePrefix())
	store := c.Runs()
	run, token := createRun(t, store, time.Hour)
	hash := runs.HashToken(token)
	got, v, err := store.(runs.Versioned).GetByTokenVersion(ctx, hash)
	if err != nil || got.ID != run.ID {
		t.Fatalf("GetByTokenVersion = %s, %v; want run %s", got.ID, err, run.ID)
	}
	if !v.IsZero() {
		t.Errorf("GetByTokenVersion on a Cluster gave Version %+v; want the zero Version", v)
	}
	if _, _, ok := store.(runs.Cache).Cached(hash); ok {
		t.Error("Cached serves a run on a Cluster")
	}
}

// TestRefusedTokenLeavesTheCache pins that once a lookup by token refuses the run its
// token key names (here: a run holding another token's hash), the client's run cache no longer
// offers the run it read for that token earlier.
// Guards against: cache drop skipped when getByToken refuses the record (runs.go:getByToken)
func TestRefusedTokenLeavesTheCache(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	runA, tokenA := createRun(t, store, time.Hour)
	runB, _ := createRun(t, store, time.Hour)
	hashA := runs.HashToken(tokenA)
	if got, err := store.GetByToken(ctx, hashA); err != nil || got.ID != runA.ID {
		t.Fatalf("GetByToken = %s, %v; want run A", got.ID, err)
	}
	cache := store.(runs.Cache)
	if _, _, ok := cache.Cached(hashA); !ok {
		t.Fatal("run A not cached after its lookup")
	}
	key := prefix + "runtoken:" + hex.EncodeToString(hashA[:])
	if err := srv.Client().Set(ctx, key, runB.ID, time.Hour).Err(); err != nil {
		t.Fatalf("SET %s: %v", key, err)
	}
	if _, err := store.GetByToken(ctx, hashA); !errors.Is(err, runs.ErrNotFound) {
		t.Fatalf("GetByToken of token A naming run B: %v; want ErrNotFound", err)
	}
	if got, _, ok := cache.Cached(hashA); ok {
		t.Errorf("Cached after the lookup refused token A = %s; want none", got.ID)
	}
}

// TestStoredRunWithoutID pins that a stored run record without an id (changed by hand)
// is a corrupted record, never served by token as a run with an empty id.
// Guards against: rec.ID == "" check dropped (runs.go:decodeRun)
func TestStoredRunWithoutID(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	hash := runs.HashToken("probe-token-without-id")
	hexHash := hex.EncodeToString(hash[:])
	rdb := srv.Client()
	record := fmt.Sprintf(`{"space":"prod","stack":"vpc-prod","runType":"tracked","phase":"APPLYING","expiresAt":%q,"tokenHash":%q}`,
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano), hexHash)
	if err := rdb.Set(ctx, prefix+"run:x", record, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, prefix+"runtoken:"+hexHash, "x", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetByToken(ctx, hash)
	if err == nil {
		t.Fatalf("GetByToken of a record without id = %+v, nil; want an error", got)
	}
	if errors.Is(err, runs.ErrUnavailable) {
		t.Errorf("GetByToken of a record without id = %v; want a corrupted record, not unavailability", err)
	}
}
