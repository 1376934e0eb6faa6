package auditsink_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestDeliveryGoesOnAfterDrain: a Drain ends the drain once; afterwards the worker goes on
// as usual, stepping at its poll and delivering events appended after the Drain, without ever
// ending the drain a second time (which would panic on a closed channel).
// Guards against: worker.go:run `closed(drain)` -> `closed(w.drain)` (drained closed again)
// Guards against: worker.go:closed `ch == nil` answers true
func TestDeliveryGoesOnAfterDrain(t *testing.T) {
	m := audit.NewMemory()
	cur := &countingCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: 5 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	store := f.Watch(m)
	appendN(t, store, 0, 2)
	stop := f.Start(context.Background())
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f.Drain(ctx)
	if ctx.Err() != nil {
		t.Fatal("Drain waited out its context")
	}
	appendN(t, store, 2, 3)
	eventually(t, "the events appended after Drain", func() bool { return len(rec.all()) == 5 })
	before := cur.claims.Load()
	eventually(t, "idle steps after Drain", func() bool { return cur.claims.Load() >= before+5 })
}

// TestIdleWorkerWaitsItsPoll: a worker with nothing to deliver that nobody wakes steps
// again only after its poll (an hour here): it does not spin on the store, whether it is caught
// up or the chain's head lies past what it can read yet.
// Guards against: worker.go:run idle `sleep(ctx, w.poll, ...)` -> a short fixed wait
// Guards against: worker.go:step `len(events) == 0` -> `return true, nil` (nothing read counts as
// busy)
func TestIdleWorkerWaitsItsPoll(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chain auditsink.Chain
	}{
		{"caught up", audit.NewMemory()},
		{"head past the readable range", aheadChain{audit.NewMemory()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := &countingCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
			f, err := auditsink.New(auditsink.Config{Chain: tc.chain, Cursors: cur, Poll: time.Hour,
				Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
			if err != nil {
				t.Fatal(err)
			}
			stop := f.Start(context.Background())
			defer stop()
			eventually(t, "the first step", func() bool { return cur.claims.Load() >= 1 })
			time.Sleep(100 * time.Millisecond) // an hour's poll leaves no room for a second step
			if n := cur.claims.Load(); n != 1 {
				t.Errorf("%d steps of an idle worker within 100ms of an hour's poll, want 1", n)
			}
		})
	}
}

// TestPendingCountsEventsAppendedElsewhere: a worker counts as pending every event of the
// chain past its cursor, also those appended by another replica (no Notify here) while its
// sink fails.
// Guards against: worker.go:step drop `w.pending.Store(max(0, head.Count-pos))`
func TestPendingCountsEventsAppendedElsewhere(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 3)
	f, err := auditsink.New(auditsink.Config{Chain: m,
		Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: &failing{}, MaxBackoff: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "pending 3", func() bool { return f.Stats()[0].Pending == 3 })
}

// TestPendingLeavesOutLostEvents: once the store has dropped events the sink never got,
// pending counts only the events that can still be delivered, already while the batch of
// those is being delivered.
// Guards against: worker.go:step drop `w.pending.Store(max(0, head.Count-first))` after the lost
// events
func TestPendingLeavesOutLostEvents(t *testing.T) {
	m := audit.NewMemoryRetaining(4)
	appendN(t, m, 0, 40)
	retained := int64(len(chainOf(t, m)))
	if retained == 0 || retained >= 40 {
		t.Fatalf("the store retains %d of 40 events", retained)
	}
	f, err := auditsink.New(auditsink.Config{Chain: m,
		Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: &hangsOnce{}, Timeout: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the delivery hanging", func() bool { return f.Stats()[0].Held > 0 })
	if got := f.Stats()[0].Pending; got != retained {
		t.Errorf("pending %d while delivering the retained events, want %d", got, retained)
	}
}

// TestLeaseLostAtSaveStopsTheWorker: when saving the cursor after a delivery finds that
// another replica holds the lease now, the worker stops reporting itself leader and waits
// (here for its hour's poll) instead of delivering the same batch again at once.
// Guards against: worker.go:step lease lost at save `return false, nil` -> `return true, nil` (hot
// loop)
// Guards against: worker.go:advance drop `w.leader.Store(false)` when the lease is lost
func TestLeaseLostAtSaveStopsTheWorker(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 3)
	cur := &strictCursors{MemoryCursors: audit.NewMemoryCursors(nil), lost: true}
	sink := &countingSink{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: sink}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "a delivery", func() bool { return sink.calls.Load() >= 1 })
	eventually(t, "the leadership given up", func() bool { return !f.Stats()[0].Leader })
	time.Sleep(100 * time.Millisecond) // an hour's poll leaves no room for another attempt
	if n := sink.calls.Load(); n != 1 {
		t.Errorf("%d deliveries after the lease was lost, want the one", n)
	}
}

// gatedCursors are MemoryCursors whose second and later Claims, once armed, say so on
// entered and wait for gate: a store that is slow to answer the step after a delivery.
type gatedCursors struct {
	*audit.MemoryCursors
	claims        atomic.Int64
	entered, gate chan struct{}
}

func (c *gatedCursors) Claim(ctx context.Context, sink, holder string,
	ttl time.Duration) (bool, error) {
	if c.claims.Add(1) == 2 {
		c.entered <- struct{}{}
		select {
		case <-c.gate:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return c.MemoryCursors.Claim(ctx, sink, holder, ttl)
}

// TestPendingDropsRightAfterADelivery: a delivered batch stops counting as pending as
// soon as its cursor is saved, not only at the next step (which a slow store can hold up).
// Guards against: worker.go:step drop `w.pending.Store(max(0, head.Count-next))` after a delivery
func TestPendingDropsRightAfterADelivery(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 3)
	cur := &gatedCursors{MemoryCursors: audit.NewMemoryCursors(nil),
		entered: make(chan struct{}, 1), gate: make(chan struct{})}
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	defer close(cur.gate)
	select {
	case <-cur.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no step after the delivery")
	}
	if len(rec.all()) != 3 {
		t.Fatalf("the sink got %d events before the second step, want 3", len(rec.all()))
	}
	if got := f.Stats()[0].Pending; got != 0 {
		t.Errorf("pending %d once the whole chain is delivered, want 0", got)
	}
}

// releaseFailing are MemoryCursors whose Release fails.
type releaseFailing struct{ *audit.MemoryCursors }

func (releaseFailing) Release(context.Context, string, string) error {
	return errors.New("store down")
}

// TestFailedReleaseIsLogged: a lease that cannot be released at stop is logged (the other
// replicas wait out its TTL before they deliver, and an operator should know why).
// Guards against: worker.go:release ignores the Release error
func TestFailedReleaseIsLogged(t *testing.T) {
	var logs syncbuf.Buffer
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(),
		Cursors: releaseFailing{audit.NewMemoryCursors(nil)}, Poll: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	eventually(t, "the lease taken", func() bool { return f.Stats()[0].Leader })
	stop()
	if s := logs.String(); !strings.Contains(s, "could not release the lease") {
		t.Errorf("a failed release was not logged:\n%s", s)
	}
}

// TestFailedSaveAfterLostEventsIsReported: when the store dropped events the sink never
// got and the cursor cannot be moved past them, the step is a failed attempt, logged and
// retried after a backoff, not an idle step that hides the store's failure.
// Guards against: worker.go:step ignores the error of saving the cursor past the lost events
func TestFailedSaveAfterLostEventsIsReported(t *testing.T) {
	m := audit.NewMemoryRetaining(4)
	appendN(t, m, 0, 40)
	cur := &scriptedCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	cur.failAdvance.Store(1)
	var logs syncbuf.Buffer
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{
			{Name: "s", Sink: rec.as("a"), MaxBackoff: 5 * time.Millisecond},
		}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the retained events", func() bool { return len(rec.all()) > 0 })
	stop()
	if s := logs.String(); !strings.Contains(s, "delivery failed") ||
		!strings.Contains(s, "save cursor past the lost events") {
		t.Errorf("a failed save past the lost events was not reported:\n%s", s)
	}
}

// ctxReleasing are MemoryCursors whose Release, as a networked store's, fails once its
// context has ended.
type ctxReleasing struct{ *audit.MemoryCursors }

func (c ctxReleasing) Release(ctx context.Context, sink, holder string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.MemoryCursors.Release(ctx, sink, holder)
}

// TestStopReleasesWithALiveContext: stop gives the lease up with a context of its own,
// live although the workers' context has ended, so a store that honours contexts does release
// it and another replica takes over at once.
// Guards against: worker.go:release with an ended context
func TestStopReleasesWithALiveContext(t *testing.T) {
	cursors := ctxReleasing{audit.NewMemoryCursors(nil)}
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(),
		Cursors: cursors, Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	eventually(t, "the lease taken", func() bool { return f.Stats()[0].Leader })
	stop()
	ok, err := cursors.Claim(context.Background(), "s", "other-replica", time.Minute)
	if err != nil || !ok {
		t.Fatalf("another replica could not take the lease right after stop: %v %v", ok, err)
	}
}
