package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/redis/go-redis/v9"
)

// tailMover is a go-redis hook that, before each pipeline carrying a script call, moves the
// chain's tail (as another replica's append would) while its budget lasts, and counts the moves.
type tailMover struct {
	rdb    *redis.Client
	key    string
	mu     sync.Mutex
	budget int
	moves  int
}

func (h *tailMover) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *tailMover) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *tailMover) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		script := false
		for _, c := range cmds {
			script = script || strings.HasPrefix(strings.ToLower(c.Name()), "eval")
		}
		h.mu.Lock()
		move := script && h.budget > 0
		if move {
			h.budget--
			h.moves++
		}
		n := h.moves
		h.mu.Unlock()
		if move {
			if err := h.rdb.Set(ctx, h.key, fmt.Sprintf("moved-%d", n), 0).Err(); err != nil {
				return err
			}
		}
		return next(ctx, cmds)
	}
}

// moveTails sets how many more script calls find the tail moved, and returns the moves so
// far.
func (h *tailMover) moveTails(budget int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	moves := h.moves
	h.budget, h.moves = budget, 0
	return moves
}

// TestAppendRetryBound: a batch whose compare-and-swap on the tail keeps failing (other
// replicas appending every time) is sent at most 100 times and then fails with
// audit.ErrUnavailable; a batch that finds the tail moved 99 times still lands; and the count
// starts again for every batch.
// Guards against: audit.go:settle "s.tries < maxAppendTries" -> "<="
// Guards against: audit.go:maxAppendTries 100 -> 3
// Guards against: audit.go:add drop "s.tries = 0"
func TestAppendRetryBound(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	c := open(t, srv, prefix, suiteTimeout)
	store := c.Audit()
	if _, err := store.Append(ctx, audit.Event{ID: "warm", Action: "test"}, nil); err != nil { // loads the script
		t.Fatal(err)
	}
	mover := &tailMover{rdb: srv.Client(), key: prefix + "audit:tail"}
	c.Redis().AddHook(mover)
	for i := range 2 {
		mover.moveTails(60)
		if _, err := store.Append(ctx, audit.Event{ID: fmt.Sprint("moved-60-", i), Action: "test"}, nil); err != nil {
			t.Fatalf("batch %d after 60 moved tails: %v, want it appended", i, err)
		}
	}
	mover.moveTails(99)
	if _, err := store.Append(ctx, audit.Event{ID: "moved-99", Action: "test"}, nil); err != nil {
		t.Fatalf("Append after 99 moved tails: %v, want it appended", err)
	}
	mover.moveTails(1000)
	_, err := store.Append(ctx, audit.Event{ID: "moved-always", Action: "test"}, nil)
	if moves := mover.moveTails(0); !errors.Is(err, audit.ErrUnavailable) || moves != 100 {
		t.Fatalf("Append whose tail always moved: %v after %d tries; want audit.ErrUnavailable after 100", err, moves)
	}
}

// TestAppendOneScriptCallEach: appends from one replica, one after the other, take one
// script call each: a landed batch's hash becomes the tail the next batch expects.
// Guards against: audit.go:settle drop "s.tail = s.last"
func TestAppendOneScriptCallEach(t *testing.T) {
	ctx := context.Background()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	store := c.Audit()
	if _, err := store.Append(ctx, audit.Event{ID: "warm", Action: "test"}, nil); err != nil { // loads the script
		t.Fatal(err)
	}
	log := &pipelineLog{}
	c.Redis().AddHook(log)
	for i := range 3 {
		if _, err := store.Append(ctx, audit.Event{ID: fmt.Sprint("ev-", i), Action: "test"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if sent := log.sent(); len(sent) != 3 {
		t.Errorf("3 appends took %d script calls %v, want 3", len(sent), sent)
	}
}

// TestQueuedEventsBatchedUpTo256: the events queued while a round trip is on its way go
// in batches of up to 256 events, one script call each, and land chained in order.
// Guards against: audit.go:add batch of min(len(queue), 1)
// Guards against: audit.go:maxBatch 256 -> 100000
func TestQueuedEventsBatchedUpTo256(t *testing.T) {
	ctx := context.Background()
	c, store, trail, run, token := tokenPath(t)
	if _, err := trail.Append(ctx, tokenEvent("warm", run), []string{run.Space}); err != nil { // loads the script
		t.Fatal(err)
	}
	release := holdRoundTrip(t, c, store, token)
	log := &pipelineLog{}
	c.Redis().AddHook(log)
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := trail.Append(ctx, tokenEvent(fmt.Sprint("ev-", i), run), []string{run.Space}); err != nil {
				t.Errorf("Append %d: %v", i, err)
			}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for redisstore.QueuedEvents(trail) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d events queued, want %d", redisstore.QueuedEvents(trail), n)
		}
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	if sent := log.sent(); len(sent) != 2 {
		t.Errorf("%d queued events took %d script calls, want 2 (256 + 44)", n, len(sent))
	}
	events, _, err := trail.List(ctx, run.Space, "", n+2)
	if err != nil || len(events) != n+1 {
		t.Fatalf("List = %d events, %v; want %d", len(events), err, n+1)
	}
	if err := audit.Verify(events); err != nil {
		t.Errorf("chain: %v", err)
	}
}

// TestAppendReturnsStoredEvent: Append returns the event as stored, its Prev the hash of the
// event before it.
// Guards against: audit.go:answer answers appended{} instead of the stored event
func TestAppendReturnsStoredEvent(t *testing.T) {
	ctx := context.Background()
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Audit()
	first, err := store.Append(ctx, audit.Event{ID: "ev-1", Action: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.Append(ctx, audit.Event{ID: "ev-2", Action: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := audit.Hash(first)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != "ev-1" || second.ID != "ev-2" || second.Prev != want {
		t.Errorf("Append returned %+v then %+v; want ev-1, then ev-2 with prev %s", first, second, want)
	}
}

// TestLandedKeyKeptAnHour: the key recording a store's last appended batch is kept for an
// hour, so a batch sent again long after its reply was lost still lands once.
// Guards against: audit.go:appendBatchScript landed key "EX 3600" -> "EX 1"
func TestLandedKeyKeptAnHour(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	store := open(t, srv, prefix, suiteTimeout).Audit()
	if _, err := store.Append(ctx, audit.Event{ID: "ev-1", Action: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	landed, err := srv.Client().Keys(ctx, prefix+"audit:landed:*").Result()
	if err != nil || len(landed) != 1 {
		t.Fatalf("landed keys %v, %v; want one", landed, err)
	}
	if d, err := srv.Client().TTL(ctx, landed[0]).Result(); err != nil || d < 59*time.Minute || d > time.Hour {
		t.Errorf("TTL of the landed key = %v, %v; want an hour", d, err)
	}
}

// TestClusterCheckedAppendRefused: on a Redis Cluster, where no script reaches both a run
// and the trail, an append checked against a run fails with runs.ErrChanged and appends nothing.
// Guards against: audit.go:AppendChecked drop the "s.c.cluster" refusal
func TestClusterCheckedAppendRefused(t *testing.T) {
	ctx := context.Background()
	c := openCluster(t, cluster(t), uniquePrefix())
	run, token := newRun(t, runs.Tracked, time.Hour)
	v := runs.Version{ID: run.ID, Token: runs.HashToken(token), Digest: "d"}
	trail := c.Audit()
	if _, err := trail.(audit.CheckedStore).AppendChecked(ctx, tokenEvent("ev-1", run), []string{run.Space}, v); !errors.Is(err, runs.ErrChanged) {
		t.Errorf("AppendChecked on a Cluster: %v, want ErrChanged", err)
	}
	if h, err := trail.Head(ctx); err != nil || h.Count != 0 {
		t.Errorf("Head after a refused append = %d, %v; want 0 events", h.Count, err)
	}
}
