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
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// scriptedCursors wraps MemoryCursors: it counts Claims, fails Claim or Cursor while told to,
// and fails the next failAdvance Advances.
type scriptedCursors struct {
	*audit.MemoryCursors
	claims                atomic.Int64
	failClaim, failCursor atomic.Bool
	failAdvance           atomic.Int64
}

func (c *scriptedCursors) Claim(ctx context.Context, sink, holder string, ttl time.Duration) (bool, error) {
	c.claims.Add(1)
	if c.failClaim.Load() {
		return false, errors.New("store down")
	}
	return c.MemoryCursors.Claim(ctx, sink, holder, ttl)
}

func (c *scriptedCursors) Cursor(ctx context.Context, sink string) (audit.SinkCursor, error) {
	if c.failCursor.Load() {
		return audit.SinkCursor{}, errors.New("store down")
	}
	return c.MemoryCursors.Cursor(ctx, sink)
}

func (c *scriptedCursors) Advance(ctx context.Context, sink, holder string, to audit.SinkCursor) (bool, error) {
	if c.failAdvance.Add(-1) >= 0 {
		return false, errors.New("store down")
	}
	return c.MemoryCursors.Advance(ctx, sink, holder, to)
}

// refusingStore is an audit store whose appends all fail.
type refusingStore struct{ *audit.Memory }

func (refusingStore) Append(context.Context, audit.Event, []string) (audit.Event, error) {
	return audit.Event{}, errors.New("store down")
}

// TestFailedAppendIsNotPending pins that an Append the store refuses wakes no worker and
// counts as no pending event.
// Guards against: forwarder.go:watched.Append `err == nil` -> `true`
func TestFailedAppendIsNotPending(t *testing.T) {
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: audit.NewMemoryCursors(nil),
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	store := f.Watch(refusingStore{audit.NewMemory()})
	if _, err := store.Append(context.Background(), audit.Event{ID: "e1"}, []string{"root"}); err == nil {
		t.Fatal("append succeeded")
	}
	if got := f.Stats()[0].Pending; got != 0 {
		t.Errorf("pending %d after a refused append, want 0", got)
	}
}

// TestDrainEndsWithItsContext pins that Drain returns once its context ends, even when no
// worker runs to report drained.
// Guards against: forwarder.go:Drain ignores ctx.Done()
func TestDrainEndsWithItsContext(t *testing.T) {
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: audit.NewMemoryCursors(nil),
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() {
		f.Drain(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Drain with an ended context did not return")
	}
}

// TestPendingMetric pins that the collector reports each sink's pending events under
// broker_audit_sink_pending_events with the sink's name as its label.
// Guards against: metrics.go:value from held instead of pending
// Guards against: metrics.go:label a constant instead of the sink's name
func TestPendingMetric(t *testing.T) {
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: audit.NewMemoryCursors(nil),
		Targets: []auditsink.Target{{Name: "siem", Sink: (&recorder{}).as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	f.Notify()
	f.Notify()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(f.Collector())
	want := `
# HELP broker_audit_sink_pending_events Events of the audit chain not yet delivered to the sink, as last seen by this replica.
# TYPE broker_audit_sink_pending_events gauge
broker_audit_sink_pending_events{sink="siem"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "broker_audit_sink_pending_events"); err != nil {
		t.Error(err)
	}
}

// TestStopMidDeliveryIsNoFailure pins that a delivery interrupted by stop is not logged as
// a failed delivery to retry (it is repeated from the cursor at the next start), and that a
// stopped forwarder no longer reports itself the sink's leader.
// Guards against: worker.go:`err != nil && ctx.Err() == nil` -> `err != nil`
// Guards against: worker.go:release drops leader.Store(false)
func TestStopMidDeliveryIsNoFailure(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 1)
	var logs syncbuf.Buffer
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: &hangsOnce{}, Timeout: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	eventually(t, "the delivery hanging", func() bool { return f.Stats()[0].Held == 1 })
	stop()
	if s := logs.String(); strings.Contains(s, "delivery failed") {
		t.Errorf("a stop mid-delivery was logged as a failure:\n%s", s)
	}
	if f.Stats()[0].Leader {
		t.Error("a stopped forwarder still reports itself leader")
	}
}

// TestClaimErrorIsNotLeadership pins that a worker whose lease claim fails does not report
// itself the sink's leader.
// Guards against: worker.go:step keeps leader on a Claim error
func TestClaimErrorIsNotLeadership(t *testing.T) {
	cur := &scriptedCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: cur, Poll: 5 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a"), MaxBackoff: 5 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the lease taken", func() bool { return f.Stats()[0].Leader })
	cur.failClaim.Store(true)
	before := cur.claims.Load()
	eventually(t, "two failed claims", func() bool { return cur.claims.Load() >= before+2 })
	if f.Stats()[0].Leader {
		t.Error("leader after failed claims")
	}
}

// TestCursorAheadOfTheChain: a cursor past the chain's end (a chain reset without its sink
// cursors, or a store that lost its end; here a cursor saved without marks) is rewound to the
// chain's start, so the sink receives every event the chain holds now; the rewind is reported
// and counted once however many steps follow, and pending is never negative.
// Guards against: worker.go:pending without max(0, ...)
// Guards against: worker.go:step waits for the chain to grow past the cursor (the events below it never delivered)
func TestCursorAheadOfTheChain(t *testing.T) {
	ctx := context.Background()
	m, mc := audit.NewMemory(), audit.NewMemoryCursors(nil)
	if ok, _ := mc.Claim(ctx, "s", "old", time.Minute); !ok {
		t.Fatal("claim")
	}
	if ok, _ := mc.Advance(ctx, "s", "old", audit.SinkCursor{Pos: 100}); !ok {
		t.Fatal("advance")
	}
	_ = mc.Release(ctx, "s", "old")
	appendN(t, m, 0, 3)
	cur := &scriptedCursors{MemoryCursors: mc}
	var logs syncbuf.Buffer
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: 5 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(ctx)
	eventually(t, "the chain delivered", func() bool { return len(rec.all()) == 3 })
	before := cur.claims.Load()
	eventually(t, "several steps", func() bool { return cur.claims.Load() >= before+5 })
	stop()
	if st := f.Stats()[0]; st.Pending != 0 || st.Rewinds != 1 {
		t.Errorf("pending %d, rewinds %d after the rewound chain was delivered, want 0 and 1", st.Pending, st.Rewinds)
	}
	if n := strings.Count(logs.String(), "the audit chain went back below events this sink received"); n != 1 {
		t.Errorf("the cursor past the chain reported %d times, want once", n)
	}
}

// TestMaxHeldIsTheLargestBatch pins that Stats.MaxHeld reports the largest batch the worker
// ever held (here a full MaxBatch), not merely a bound.
// Guards against: worker.go:hold never raises maxHeld
func TestMaxHeldIsTheLargestBatch(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 10)
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: 5 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBatch: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	eventually(t, "the chain delivered", func() bool { return len(rec.all()) == 10 })
	stop()
	if got := f.Stats()[0].MaxHeld; got != 4 {
		t.Errorf("MaxHeld %d, want 4", got)
	}
}

// TestCursorReadErrorDeliversNothingAgain pins that a worker that cannot read its sink's
// cursor delivers nothing (it retries later) rather than start again from the chain's beginning.
// Guards against: worker.go:step ignores the Cursor error
func TestCursorReadErrorDeliversNothingAgain(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 3)
	cur := &scriptedCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: 5 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBackoff: 5 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the chain delivered", func() bool { return len(rec.all()) == 3 })
	cur.failCursor.Store(true)
	before := cur.claims.Load()
	eventually(t, "steps without a cursor", func() bool { return cur.claims.Load() >= before+3 })
	stop()
	if got := len(rec.all()); got != 3 {
		t.Errorf("the sink got %d events, want the 3 once each", got)
	}
}

// brokenChain is a memory chain whose Head or Range fails, as told by fail.
type brokenChain struct {
	*audit.Memory
	fail string
}

func (c brokenChain) Head(ctx context.Context) (audit.Head, error) {
	if c.fail == "head" {
		return audit.Head{}, errors.New("store down")
	}
	return c.Memory.Head(ctx)
}

func (c brokenChain) Range(ctx context.Context, from int64, limit int) ([]audit.Event, int64, error) {
	if c.fail == "range" {
		return nil, 0, errors.New("store down")
	}
	return c.Memory.Range(ctx, from, limit)
}

// TestChainReadErrorsAreReported pins that a worker that cannot read the chain's head or
// its events reports a failed attempt (logged, retried after a backoff) instead of idling
// silently as if caught up.
// Guards against: worker.go:step ignores the Head error
// Guards against: worker.go:step turns a Range error into an idle step
func TestChainReadErrorsAreReported(t *testing.T) {
	for _, tc := range []struct{ fail, want string }{{"head", "read chain head"}, {"range", "read chain"}} {
		t.Run(tc.fail, func(t *testing.T) {
			m := audit.NewMemory()
			appendN(t, m, 0, 1)
			cur := &scriptedCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
			var logs syncbuf.Buffer
			f, err := auditsink.New(auditsink.Config{Chain: brokenChain{m, tc.fail}, Cursors: cur, Poll: 5 * time.Millisecond,
				Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
				Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a"), MaxBackoff: 5 * time.Millisecond}}})
			if err != nil {
				t.Fatal(err)
			}
			stop := f.Start(context.Background())
			eventually(t, "several steps", func() bool { return cur.claims.Load() >= 3 })
			stop()
			if s := logs.String(); !strings.Contains(s, "delivery failed") || !strings.Contains(s, tc.want) {
				t.Errorf("a failing chain read was not reported:\n%s", s)
			}
		})
	}
}

// TestFailedCursorSaveIsRetriedAndReported: when the cursor cannot be saved after a delivery, the
// worker warns and tries again after its backoff, not after the poll: the batch is delivered
// again (a sink gets each event at least once), and then the cursor moves past it.
// Guards against: worker.go swallowing the error of saving the cursor after a delivery (no
// warning, and the worker waits a whole poll).
func TestFailedCursorSaveIsRetriedAndReported(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	appendN(t, m, 0, 2)
	cur := &scriptedCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	cur.failAdvance.Store(1)
	rec := &recorder{}
	var logs syncbuf.Buffer
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBackoff: 5 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(ctx)
	defer stop()
	eventually(t, "the batch delivered again", func() bool { return len(rec.all()) == 4 })
	eventually(t, "the cursor past the batch", func() bool {
		c, err := cur.MemoryCursors.Cursor(ctx, "s")
		return err == nil && c.Pos == 2
	})
	stop()
	if !strings.Contains(logs.String(), "save cursor") {
		t.Errorf("no warning of the cursor not saved:\n%s", logs.String())
	}
}
