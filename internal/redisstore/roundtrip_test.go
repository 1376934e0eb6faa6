package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// pipelineLog is a go-redis hook recording the script calls of every pipeline the client
// sends. While hold is set, the first pipeline waits for release before it goes.
type pipelineLog struct {
	mu        sync.Mutex
	pipelines [][]string
	hold      bool
	entered   chan struct{}
	release   chan struct{}
}

func (h *pipelineLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *pipelineLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *pipelineLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var names []string
		for _, c := range cmds {
			if name := strings.ToLower(c.Name()); strings.HasPrefix(name, "eval") {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return next(ctx, cmds) // a new connection's set-up
		}
		h.mu.Lock()
		h.pipelines = append(h.pipelines, names)
		first := len(h.pipelines) == 1
		h.mu.Unlock()
		if first && h.hold {
			close(h.entered)
			<-h.release
		}
		return next(ctx, cmds)
	}
}

func (h *pipelineLog) sent() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]string(nil), h.pipelines...)
}

// tokenEvent is an audit event of a token handed out for run.
func tokenEvent(id string, run runs.Run) audit.Event {
	return audit.Event{ID: id, Time: time.Now().UTC().Format(time.RFC3339Nano), Actor: "run:" + run.ID,
		Action: "token.issue", Space: run.Space, Stack: run.Stack, Run: run.ID, Outcome: "success"}
}

// tokenPath starts a Redis and returns a client of it, its runs and audit views, and a run
// stored there with its token.
func tokenPath(t *testing.T) (*redisstore.Client, runs.Store, audit.Store, runs.Run, string) {
	t.Helper()
	c := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout)
	store := c.Runs()
	run, token := createRun(t, store, time.Hour)
	return c, store, c.Audit(), run, token
}

// waitQueued waits until n parts wait for c's next round trip.
func waitQueued(t *testing.T, c *redisstore.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for redisstore.QueuedParts(c) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d parts queued, want %d", redisstore.QueuedParts(c), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRoundTripsShared checks that the run lookups and audit appends arriving while a round
// trip is on its way go together in the next one: one pipeline, one round trip.
func TestRoundTripsShared(t *testing.T) {
	ctx := context.Background()
	c, store, trail, run, token := tokenPath(t)
	// Redis learns both scripts first, so that every call below goes by digest.
	if _, err := store.GetByToken(ctx, runs.HashToken(token)); err != nil {
		t.Fatalf("GetByToken: %v", err)
	}
	if _, err := trail.Append(ctx, tokenEvent("ev-0", run), []string{run.Space}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	log := &pipelineLog{hold: true, entered: make(chan struct{}), release: make(chan struct{})}
	c.Redis().AddHook(log)

	var wg sync.WaitGroup
	lookup := func() {
		defer wg.Done()
		got, err := store.GetByToken(ctx, runs.HashToken(token))
		if err != nil || got.ID != run.ID {
			t.Errorf("GetByToken = %q, %v; want run %q", got.ID, err, run.ID)
		}
	}
	wg.Add(1)
	go lookup() // the first round trip, held by the hook
	<-log.entered
	wg.Add(2)
	go lookup()
	go func() {
		defer wg.Done()
		if _, err := trail.Append(ctx, tokenEvent("ev-1", run), []string{run.Space}); err != nil {
			t.Errorf("Append: %v", err)
		}
	}()
	waitQueued(t, c, 2)
	close(log.release)
	wg.Wait()

	got := log.sent()
	want := [][]string{{"evalsha"}, {"evalsha", "evalsha"}}
	if len(got) != len(want) || len(got[0]) != 1 || len(got[1]) != 2 {
		t.Fatalf("pipelines sent: %v, want %v (a lookup, then a lookup and an append together)", got, want)
	}
	head, err := trail.Head(ctx)
	if err != nil || head.Count != 2 {
		t.Fatalf("Head = %+v, %v; want 2 events", head, err)
	}
}

// TestRoundTripsAfterScriptFlush checks that lookups and appends sharing a round trip still
// succeed when Redis no longer holds their scripts (after a restart, a failover or SCRIPT
// FLUSH): each goes again with the script's source.
func TestRoundTripsAfterScriptFlush(t *testing.T) {
	ctx := context.Background()
	c, store, trail, run, token := tokenPath(t)
	if _, err := trail.Append(ctx, tokenEvent("ev-0", run), []string{run.Space}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	for round := range 2 {
		if err := c.Redis().ScriptFlush(ctx).Err(); err != nil {
			t.Fatalf("SCRIPT FLUSH: %v", err)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				if _, err := store.GetByToken(ctx, runs.HashToken(token)); err != nil {
					t.Errorf("round %d: GetByToken: %v", round, err)
				}
			}()
			go func() {
				defer wg.Done()
				id := "ev-" + string(rune('a'+round)) + string(rune('a'+i))
				if _, err := trail.Append(ctx, tokenEvent(id, run), []string{run.Space}); err != nil {
					t.Errorf("round %d: Append: %v", round, err)
				}
			}()
		}
		wg.Wait()
	}
	if head, err := trail.Head(ctx); err != nil || head.Count != 17 {
		t.Fatalf("Head = %+v, %v; want 17 events", head, err)
	}
}

// TestAuditAppendSentTwice checks that a batch the client sends again after losing its reply
// (go-redis retries a pipeline whose connection broke after the write) is recorded once: its
// compare-and-swap then finds the batch's own last event at the tail.
func TestAuditAppendSentTwice(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c := open(t, srv, uniquePrefix(), suiteTimeout)
	run, _ := newRun(t, runs.Tracked, time.Hour)
	trail := c.Audit()
	c.Redis().AddHook(twiceHook{})
	for i, id := range []string{"ev-1", "ev-2"} {
		if _, err := trail.Append(ctx, tokenEvent(id, run), []string{run.Space}); err != nil {
			t.Fatalf("Append %s: %v", id, err)
		}
		head, err := trail.Head(ctx)
		if err != nil || head.Count != int64(i+1) {
			t.Fatalf("after Append %s: Head = %+v, %v; want %d events", id, head, err, i+1)
		}
	}
	events, _, err := trail.List(ctx, run.Space, "", 10)
	if err != nil || len(events) != 2 || events[1].Prev == "" {
		t.Fatalf("List = %d events, %v; want 2, chained", len(events), err)
	}
}

// twiceHook sends every pipeline twice and keeps the second answer, as a client does that
// retries after its connection broke between the write and the reply.
type twiceHook struct{}

func (twiceHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (twiceHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (twiceHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := next(ctx, cmds); err != nil {
			return err
		}
		return next(ctx, cmds)
	}
}

// TestLookupLeavesWithItsCaller checks that a lookup whose caller's context ends while its
// round trip is held returns at once with the context's error, and that the round trip, once
// released, still answers the lookups that wait for it.
func TestLookupLeavesWithItsCaller(t *testing.T) {
	c, store, _, run, token := tokenPath(t)
	log := &pipelineLog{hold: true, entered: make(chan struct{}), release: make(chan struct{})}
	c.Redis().AddHook(log)
	waiting := make(chan error, 1)
	go func() {
		got, err := store.GetByToken(context.Background(), runs.HashToken(token))
		if err == nil && got.ID != run.ID {
			err = fmt.Errorf("run %q, want %q", got.ID, run.ID)
		}
		waiting <- err
	}()
	<-log.entered
	// Released in any case, so that a lookup that ignored its context fails the test rather
	// than hanging it.
	release := sync.OnceFunc(func() { close(log.release) })
	defer time.AfterFunc(3*time.Second, release).Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := store.GetByToken(ctx, runs.HashToken(token))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("GetByToken with an ending context: %v after %s; want the deadline's error at once", err, time.Since(start))
	}
	release()
	if err := <-waiting; err != nil {
		t.Fatalf("the held lookup: %v", err)
	}
}
