package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/redis/go-redis/v9"
)

// TestCreateFinishedRunSentAgain: a Create of a run already finished, sent again after
// its reply was lost (the same record under the same id), is the same call: it succeeds rather
// than reporting the id as taken, although a finished run has no token key to compare.
// Guards against: runs.go:createScript replay check requires the token key for a finished run too
func TestCreateFinishedRunSentAgain(t *testing.T) {
	ctx := context.Background()
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Runs()
	run, token := newRun(t, runs.Tracked, time.Hour)
	run.Phase = runs.Finished
	for i := 1; i <= 2; i++ {
		if err := store.Create(ctx, run, runs.HashToken(token)); err != nil {
			t.Fatalf("Create #%d of the same finished run: %v, want nil", i, err)
		}
	}
	other, _ := newRun(t, runs.Tracked, time.Hour)
	other.ID, other.Phase = run.ID, runs.Finished
	if err := store.Create(ctx, other, runs.HashToken(token)); !errors.Is(err, runs.ErrExists) {
		t.Errorf("Create of another finished run under the same id: %v, want ErrExists", err)
	}
}

// TestStoredRunWithMistypedField: a stored run record that holds its id but a field of
// the wrong JSON type (changed by hand) is a corrupted record, never served with that field
// left empty.
// Guards against: runs.go:decodeRun ignores json.Unmarshal's error when the id decoded
func TestStoredRunWithMistypedField(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	record := fmt.Sprintf(`{"id":"x","space":"prod","stack":"vpc-prod","runType":"TRACKED",`+
		`"phase":5,"expiresAt":%q,"tokenHash":""}`,
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano))
	if err := srv.Client().Set(ctx, prefix+"run:x", record, time.Hour).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := store.Get(ctx, "x")
	if err == nil || errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Get of a record whose phase is a number = %+v, %v; want a corruption error",
			got, err)
	}
}

// TestUpdateGivesUpUnderEndlessContention: an Update whose every attempt loses its race
// (the run is written between its read and its write, each time) retries, then gives up with
// runs.ErrUnavailable and leaves the run as the other writer left it.
// Guards against: runs.go:Update's give-up error without runs.ErrUnavailable
func TestUpdateGivesUpUnderEndlessContention(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	run, _ := createRun(t, store, time.Hour)
	key := prefix + "run:" + run.ID
	rdb := srv.Client()
	calls := 0
	_, err := store.Update(ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		calls++
		data, err := rdb.Get(ctx, key).Result()
		if err != nil {
			return r, err
		}
		// Another writer rewrites the run: this attempt's transaction fails.
		if err := rdb.SetArgs(ctx, key, data, redis.SetArgs{KeepTTL: true}).Err(); err != nil {
			return r, err
		}
		return r.MoveTo(runs.Planning)
	})
	if !errors.Is(err, runs.ErrUnavailable) {
		t.Errorf("Update that always loses its race: %v, want ErrUnavailable", err)
	}
	if calls < 2 {
		t.Errorf("Update that always loses its race tried %d times, want retries", calls)
	}
	if got, err := store.Get(ctx, run.ID); err != nil || got.Phase != run.Phase {
		t.Errorf("run after the abandoned Update = %s, %v; want phase %s",
			got.Phase, err, run.Phase)
	}
}

// cancelAfterExec is a go-redis hook that calls cancel once a transaction's EXEC has
// come back.
type cancelAfterExec struct{ cancel context.CancelFunc }

func (h cancelAfterExec) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h cancelAfterExec) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h cancelAfterExec) ProcessPipelineHook(
	next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if strings.EqualFold(c.Name(), "exec") {
				h.cancel()
			}
		}
		return err
	}
}

// TestUpdateEndedWhileWaitingToRetry: an Update whose caller gives up while it waits to
// retry a lost race fails with the caller's context error; it never reports success for a
// write that did not happen.
// Guards against: runs.go:Update returns a nil error when the context ends during its backoff
func TestUpdateEndedWhileWaitingToRetry(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	run, _ := createRun(t, c.Runs(), time.Hour)
	key := prefix + "run:" + run.ID
	rdb := srv.Client()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Redis().AddHook(cancelAfterExec{cancel: cancel})
	got, err := c.Runs().Update(ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		// Another writer rewrites the run: this attempt's transaction fails.
		if err := rdb.Append(context.Background(), key, " ").Err(); err != nil {
			return r, err
		}
		return r.MoveTo(runs.Planning)
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update ended while waiting to retry = %s %s, %v; want context.Canceled",
			got.ID, got.Phase, err)
	}
}

// TestUpdateReturnsFnErrorUnchanged: the error of Update's fn comes back unchanged (not
// wrapped, not taken for an outage even when it wraps an I/O error), and nothing is stored.
// Guards against: runs.go:updateOnce returns fn's error without its callerError
func TestUpdateReturnsFnErrorUnchanged(t *testing.T) {
	ctx := context.Background()
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Runs()
	run, _ := createRun(t, store, time.Hour)
	fnErr := fmt.Errorf("test: the caller's own read failed: %w", io.ErrUnexpectedEOF)
	_, err := store.Update(ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		next, _ := r.MoveTo(runs.Planning)
		return next, fnErr
	})
	if err != fnErr || errors.Is(err, runs.ErrUnavailable) {
		t.Errorf("Update whose fn failed: %v, want fn's error unchanged", err)
	}
	if got, err := store.Get(ctx, run.ID); err != nil || got.Phase != run.Phase {
		t.Errorf("run after a failed fn = %s, %v; want phase %s", got.Phase, err, run.Phase)
	}
}

// TestUpdateOfCorruptedRunIsNotAnOutage: an Update of a run whose stored record is
// corrupted fails at once with a corruption error, never retried as a lost race nor reported
// as Redis being unavailable, and fn is not called.
// Guards against: runs.go:Update retries every error, not only a lost race
func TestUpdateOfCorruptedRunIsNotAnOutage(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Runs()
	run, _ := createRun(t, store, time.Hour)
	if err := srv.Client().Set(ctx, prefix+"run:"+run.ID, "{", time.Hour).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	called := false
	_, err := store.Update(ctx, run.ID, func(r runs.Run) (runs.Run, error) {
		called = true
		return r, nil
	})
	if err == nil || errors.Is(err, runs.ErrUnavailable) || errors.Is(err, runs.ErrNotFound) {
		t.Errorf("Update of a corrupted record: %v, want a corruption error", err)
	}
	if called {
		t.Error("Update called fn on a corrupted record")
	}
}
