package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/redis/go-redis/v9"
)

// tailMovingHook is a go-redis hook that moves the chain's tail (as another replica's
// append would) before each call of the checkpoint script while its budget lasts, and counts
// the script's calls.
type tailMovingHook struct {
	rdb    *redis.Client
	key    string
	mu     sync.Mutex
	budget int
	calls  int
}

func (h *tailMovingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *tailMovingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		name := strings.ToLower(cmd.Name())
		if !strings.HasPrefix(name, "eval") || len(args) < 4 || args[3] != h.key {
			return next(ctx, cmd) // not the checkpoint script (the head's reads the events)
		}
		h.mu.Lock()
		h.calls++
		move := h.budget > 0
		if move {
			h.budget--
		}
		n := h.calls
		h.mu.Unlock()
		if move {
			if err := h.rdb.Set(ctx, h.key, fmt.Sprintf("moved-%d", n), 0).Err(); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	}
}

func (h *tailMovingHook) ProcessPipelineHook(
	next redis.ProcessPipelineHook,
) redis.ProcessPipelineHook {
	return next
}

// reset sets how many more checkpoint script calls find the tail moved, and returns the calls
// so far.
func (h *tailMovingHook) reset(budget int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	calls := h.calls
	h.budget, h.calls = budget, 0
	return calls
}

// TestCheckpointRetryBound: a checkpoint whose tail moves before every attempt is tried
// 100 times and then fails with audit.ErrUnavailable, appending nothing; one whose tail moves
// 99 times lands on the 100th attempt.
// Guards against: AppendCheckpoint "try < maxAppendTries" -> "<=" (101 attempts)
// Guards against: AppendCheckpoint loop bound lowered (fails before 100 attempts)
func TestCheckpointRetryBound(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	store := c.Audit()
	cp := func(id string) audit.Event {
		return audit.Event{ID: id, Action: audit.CheckpointAction,
			Actor: audit.CheckpointActor, Space: "root", Detail: "x.y.z"}
	}
	if _, ok, err := store.AppendCheckpoint(ctx, cp("cp-0"), []string{"root"}, -1); !ok ||
		err != nil { // loads the script
		t.Fatalf("first checkpoint: %v, %v", ok, err)
	}
	mover := &tailMovingHook{rdb: srv.Client(), key: prefix + "audit:tail"}
	c.Redis().AddHook(mover)
	mover.reset(99)
	if _, ok, err := store.AppendCheckpoint(ctx, cp("cp-99"), []string{"root"}, 0); !ok ||
		err != nil {
		t.Fatalf("checkpoint after 99 moved tails: %v, %v; want it written", ok, err)
	}
	if calls := mover.reset(1000); calls != 100 {
		t.Errorf("checkpoint after 99 moved tails took %d calls, want 100", calls)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, ok, err := store.AppendCheckpoint(ctx, cp("cp-never"), []string{"root"}, head.CheckpointAt)
	if calls := mover.reset(0); ok || !errors.Is(err, audit.ErrUnavailable) || calls != 100 {
		t.Errorf("checkpoint whose tail always moved: %v, %v after %d calls; "+
			"want false, audit.ErrUnavailable after 100", ok, err, calls)
	}
}

// TestBySourceOnlyForTheFlushedBatch: after Redis lost its scripts (SCRIPT FLUSH), the
// batch that met NOSCRIPT goes again by source (EVAL), which loads the script again; the next
// batch goes by digest (EVALSHA) again rather than sending the script's source every time.
// Guards against: add drop "s.call.bySource = false" for a new batch
func TestBySourceOnlyForTheFlushedBatch(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	store := c.Audit()
	if _, err := store.Append(ctx, audit.Event{ID: "warm", Action: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Redis().ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	log := &pipelineLog{}
	c.Redis().AddHook(log)
	for _, id := range []string{"flushed", "next", "after"} {
		if _, err := store.Append(ctx, audit.Event{ID: id, Action: "test"}, nil); err != nil {
			t.Fatalf("Append %s: %v", id, err)
		}
	}
	want := [][]string{{"evalsha"}, {"eval"}, {"evalsha"}, {"evalsha"}}
	if sent := log.sent(); !slices.EqualFunc(sent, want, slices.Equal) {
		t.Errorf("script calls %v, want %v", sent, want)
	}
	if head, err := store.Head(ctx); err != nil || head.Count != 4 {
		t.Errorf("Head = %+v, %v; want 4 events", head, err)
	}
}
