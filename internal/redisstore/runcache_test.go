package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestCheckedAppend: a replica caches the runs it reads by token, and an audit event appended
// with a cached run's Version lands only while the stored run is that record. After another
// replica moves the run on, finishes it, or after the run's token key is gone, the append
// fails with runs.ErrChanged and the chain is unchanged.
func TestCheckedAppend(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	ca, cb := open(t, srv, prefix, suiteTimeout), open(t, srv, prefix, suiteTimeout)
	a, b := ca.Runs(), cb.Runs()
	cache, ok := a.(runs.Cache)
	if !ok {
		t.Fatal("the Redis run store is not a runs.Cache")
	}
	store := ca.Audit()
	trail, ok := store.(audit.CheckedStore)
	if !ok {
		t.Fatal("the Redis audit store is not an audit.CheckedStore")
	}
	count := func() int64 {
		t.Helper()
		h, err := store.Head(ctx)
		if err != nil {
			t.Fatalf("Head: %v", err)
		}
		return h.Count
	}

	run, token := createRun(t, b, time.Hour)
	hash := runs.HashToken(token)
	if _, _, ok := cache.Cached(hash); ok {
		t.Fatal("Cached has a run this replica never read")
	}
	if _, err := a.GetByToken(ctx, hash); err != nil {
		t.Fatalf("GetByToken: %v", err)
	}
	got, v, ok := cache.Cached(hash)
	if !ok || got.ID != run.ID || v.ID != run.ID || v.Token != hash || v.Digest == "" {
		t.Fatalf("Cached after GetByToken = %+v, %+v, %v", got, v, ok)
	}
	if _, err := trail.AppendChecked(ctx, tokenEvent("ev-1", got), []string{run.Space}, v); err != nil {
		t.Fatalf("AppendChecked with an unchanged run: %v", err)
	}
	if n := count(); n != 1 {
		t.Fatalf("chain length %d after one checked append, want 1", n)
	}

	// Another replica moves the run on: the cached Version no longer holds.
	if _, err := b.Update(ctx, run.ID, moveTo(runs.Planning)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if _, err := trail.AppendChecked(ctx, tokenEvent("ev-2", got), []string{run.Space}, v); !errors.Is(err, runs.ErrChanged) {
		t.Fatalf("AppendChecked after another replica's update: %v, want ErrChanged", err)
	}
	if n := count(); n != 1 {
		t.Fatalf("chain length %d after a refused append, want 1", n)
	}

	// Read again, then finish the run elsewhere: its token key goes, and so does the record's
	// digest.
	if _, err := a.GetByToken(ctx, hash); err != nil {
		t.Fatalf("GetByToken after the update: %v", err)
	}
	got, v, _ = cache.Cached(hash)
	if got.Phase != runs.Planning {
		t.Fatalf("Cached after a fresh read has phase %s, want PLANNING", got.Phase)
	}
	if _, err := b.Update(ctx, run.ID, moveTo(runs.Finished)); err != nil {
		t.Fatalf("Update to FINISHED: %v", err)
	}
	if _, err := trail.AppendChecked(ctx, tokenEvent("ev-3", got), []string{run.Space}, v); !errors.Is(err, runs.ErrChanged) {
		t.Fatalf("AppendChecked after the run finished: %v, want ErrChanged", err)
	}
	if _, err := a.GetByToken(ctx, hash); !errors.Is(err, runs.ErrNotFound) {
		t.Fatalf("GetByToken of a finished run: %v", err)
	}
	if _, _, ok := cache.Cached(hash); ok {
		t.Error("Cached still has a run GetByToken found finished")
	}
	// Unchecked appends are unaffected.
	if _, err := store.Append(ctx, tokenEvent("ev-4", got), []string{run.Space}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("chain length %d, want 2", n)
	}
}

// TestCheckedBatch: when one event of a batch has a run that changed, that event fails with
// runs.ErrChanged and the batch's other events, checked or not, still land, once each.
func TestCheckedBatch(t *testing.T) {
	ctx := context.Background()
	c, store, trail, stale, token := tokenPath(t)
	current, token2 := createRun(t, store, time.Hour)
	for _, tok := range []string{token, token2} {
		if _, err := store.GetByToken(ctx, runs.HashToken(tok)); err != nil {
			t.Fatalf("GetByToken: %v", err)
		}
	}
	cache := store.(runs.Cache)
	_, staleV, _ := cache.Cached(runs.HashToken(token))
	_, currentV, _ := cache.Cached(runs.HashToken(token2))
	if _, err := store.Update(ctx, stale.ID, moveTo(runs.Planning)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	checked := trail.(audit.CheckedStore)

	release := holdRoundTrip(t, c, store, token2)
	var wg sync.WaitGroup
	results := make([]error, 3)
	appends := []func() error{
		func() error {
			_, err := checked.AppendChecked(ctx, tokenEvent("ev-stale", stale), []string{stale.Space}, staleV)
			return err
		},
		func() error {
			_, err := trail.Append(ctx, tokenEvent("ev-plain", current), []string{current.Space})
			return err
		},
		func() error {
			_, err := checked.AppendChecked(ctx, tokenEvent("ev-current", current), []string{current.Space}, currentV)
			return err
		},
	}
	for i, f := range appends {
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = f() }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for redisstore.QueuedEvents(trail) < len(appends) {
		if time.Now().After(deadline) {
			t.Fatalf("%d events queued, want %d", redisstore.QueuedEvents(trail), len(appends))
		}
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()

	if !errors.Is(results[0], runs.ErrChanged) || results[1] != nil || results[2] != nil {
		t.Fatalf("appends: stale %v, plain %v, current %v; want ErrChanged, nil, nil", results[0], results[1], results[2])
	}
	wantChain(t, trail, current.Space, "ev-current", "ev-plain")
}

// wantChain requires the events listed under space to be want, once each, in a chain that
// verifies.
func wantChain(t *testing.T, trail audit.Store, space string, want ...string) {
	t.Helper()
	events, _, err := trail.List(context.Background(), space, "", 10)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Errorf("events in the chain: %v, want %v once each", ids, want)
	}
	if err := audit.Verify(events); err != nil {
		t.Errorf("the chain does not verify: %v", err)
	}
}

// TestBatchWithoutCanonicalForm: an event that has no canonical form (a field that is not valid
// UTF-8) fails on its own; the events queued in the same batch land, once each.
func TestBatchWithoutCanonicalForm(t *testing.T) {
	ctx := context.Background()
	c, store, trail, run, token := tokenPath(t)
	release := holdRoundTrip(t, c, store, token)
	var wg sync.WaitGroup
	bad := tokenEvent("ev-bad", run)
	bad.Action = "PUT /v1/roles/r\xff"
	events := []audit.Event{tokenEvent("ev-before", run), bad, tokenEvent("ev-after", run)}
	results := make([]error, len(events))
	for i, e := range events {
		wg.Add(1)
		go func() { defer wg.Done(); _, results[i] = trail.Append(ctx, e, []string{run.Space}) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for redisstore.QueuedEvents(trail) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d events queued, want at least the two valid ones", redisstore.QueuedEvents(trail))
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the third append queue too, if it queues at all
	release()
	wg.Wait()
	if results[0] != nil || results[1] == nil || results[2] != nil {
		t.Fatalf("appends: valid %v, no canonical form %v, valid %v; want nil, an error, nil", results[0], results[1], results[2])
	}
	wantChain(t, trail, run.Space, "ev-after", "ev-before")
}

// holdRoundTrip starts a run lookup of token on c that a hook holds in its round trip, so that
// what is queued meanwhile goes in the next one, and returns the function that lets it go and
// waits for it.
func holdRoundTrip(t *testing.T, c *redisstore.Client, store runs.Store, token string) (release func()) {
	t.Helper()
	log := &pipelineLog{hold: true, entered: make(chan struct{}), release: make(chan struct{})}
	c.Redis().AddHook(log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := store.GetByToken(context.Background(), runs.HashToken(token)); err != nil {
			t.Errorf("GetByToken: %v", err)
		}
	}()
	<-log.entered
	return func() {
		close(log.release)
		<-done
	}
}
