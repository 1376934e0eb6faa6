package auditsink_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestNewRefusesBadTargets pins that New refuses a config missing its Chain or Cursors, a target
// without a Name or Sink, and two targets sharing a Name (they would share one cursor and one lease
// under the same holder, so both workers would deliver at once).
// Guards against: forwarder.go:88 drop `|| seen[t.Name]`
// Guards against: forwarder.go:88 drop `t.Sink == nil ||`
// Guards against: forwarder.go:71 drop `|| cfg.Cursors == nil`
func TestNewRefusesBadTargets(t *testing.T) {
	m, cursors := audit.NewMemory(), audit.NewMemoryCursors(nil)
	sink := (&recorder{}).as("a")
	for _, tc := range []struct {
		name string
		cfg  auditsink.Config
	}{
		{"no chain", auditsink.Config{Cursors: cursors, Targets: []auditsink.Target{{Name: "s", Sink: sink}}}},
		{"no cursors", auditsink.Config{Chain: m, Targets: []auditsink.Target{{Name: "s", Sink: sink}}}},
		{"no name", auditsink.Config{Chain: m, Cursors: cursors, Targets: []auditsink.Target{{Sink: sink}}}},
		{"no sink", auditsink.Config{Chain: m, Cursors: cursors, Targets: []auditsink.Target{{Name: "s"}}}},
		{"duplicate name", auditsink.Config{Chain: m, Cursors: cursors, Targets: []auditsink.Target{
			{Name: "s", Sink: sink}, {Name: "s", Sink: (&recorder{}).as("b")}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := auditsink.New(tc.cfg); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
	if _, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cursors, Targets: []auditsink.Target{
		{Name: "s", Sink: sink}, {Name: "t", Sink: sink}}}); err != nil {
		t.Fatalf("two targets with distinct names: %v", err)
	}
}

// TestFailedCheckedAppendIsNotPending pins that an AppendChecked the store refuses does not count
// as a pending event (the metric would report an event that does not exist).
// Guards against: forwarder.go:186 `err == nil` -> `true` (Notify after a failed AppendChecked)
func TestFailedCheckedAppendIsNotPending(t *testing.T) {
	m := audit.NewMemory()
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: audit.NewMemoryCursors(nil),
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	cs := f.Watch(checkingStore{m}).(audit.CheckedStore)
	if _, err := cs.AppendChecked(context.Background(), audit.Event{ID: "e1"}, []string{"root"}, runsVersion("stale")); err == nil {
		t.Fatal("a stale append succeeded")
	}
	if got := f.Stats()[0].Pending; got != 0 {
		t.Errorf("pending %d after a refused append, want 0", got)
	}
}

// runsVersion is a Version of run r with digest.
func runsVersion(digest string) runs.Version { return runs.Version{ID: "r", Digest: digest} }

// strictCursors wraps MemoryCursors: it records the ttl of every Claim, honours ctx in Advance
// (as a networked store does), and with lost set answers every Advance as if another replica
// had taken the lease.
type strictCursors struct {
	*audit.MemoryCursors
	claims atomic.Int64
	mu     sync.Mutex
	ttls   []time.Duration
	lost   bool
}

func (p *strictCursors) Claim(ctx context.Context, sink, holder string, ttl time.Duration) (bool, error) {
	p.claims.Add(1)
	p.mu.Lock()
	p.ttls = append(p.ttls, ttl)
	p.mu.Unlock()
	return p.MemoryCursors.Claim(ctx, sink, holder, ttl)
}

func (p *strictCursors) Advance(ctx context.Context, sink, holder string, to audit.SinkCursor) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if p.lost {
		return false, nil
	}
	return p.MemoryCursors.Advance(ctx, sink, holder, to)
}

// TestLeaseOutlastsADelivery pins that the lease a worker claims lasts longer than one delivery may
// take plus a poll, so another replica cannot take over mid-delivery and deliver the same events at
// the same time.
// Guards against: forwarder.go:103 leaseTTL `3*cfg.Poll + 2*t.Timeout` -> `3*cfg.Poll`
func TestLeaseOutlastsADelivery(t *testing.T) {
	cur := &strictCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	const poll, timeout = 10 * time.Millisecond, 5 * time.Second
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: cur, Poll: poll,
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a"), Timeout: timeout}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	eventually(t, "a claim", func() bool { return cur.claims.Load() > 0 })
	stop()
	cur.mu.Lock()
	defer cur.mu.Unlock()
	for _, ttl := range cur.ttls {
		if ttl <= timeout+poll {
			t.Fatalf("lease claimed for %s, want more than a delivery's timeout plus a poll (%s)", ttl, timeout+poll)
		}
	}
}

// TestStopReleasesTheLease pins that stopping a forwarder gives up its sinks' leases at once, so
// another replica takes over without waiting out the TTL (seconds of undelivered audit).
// Guards against: worker.go:48 drop `defer w.release()`
func TestStopReleasesTheLease(t *testing.T) {
	cursors := audit.NewMemoryCursors(nil)
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: cursors, Poll: 10 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	eventually(t, "the lease taken", func() bool { return f.Stats()[0].Leader })
	stop()
	if ok, err := cursors.Claim(context.Background(), "s", "other-replica", time.Minute); err != nil || !ok {
		t.Fatalf("another replica could not take the lease right after stop: %v %v", ok, err)
	}
}

// ctxSink takes its events once its delivery's context ends (a receiver that answers just as
// the forwarder stops) and reports them delivered.
type ctxSink struct {
	entered chan struct{}
	once    sync.Once
}

func (s *ctxSink) Deliver(ctx context.Context, _ []audit.Event) error {
	s.once.Do(func() { close(s.entered) })
	<-ctx.Done()
	return nil
}

// TestCursorSavedWhenStoppedAfterDelivery pins that a batch delivered while the forwarder stops
// still has its cursor saved (with a context the stop does not cancel), so a restart does not
// deliver it again.
// Guards against: worker.go:170 `context.WithoutCancel(ctx)` -> `ctx`
func TestCursorSavedWhenStoppedAfterDelivery(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 3)
	cur := &strictCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	sink := &ctxSink{entered: make(chan struct{})}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: 10 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: sink, Timeout: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	select {
	case <-sink.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	stop()
	if c, _ := cur.Cursor(context.Background(), "s"); c.Pos != 3 {
		t.Fatalf("cursor %d after a delivered batch and a stop, want 3", c.Pos)
	}
}

// TestNoDeliveryAfterLosingTheLease pins that a worker that finds, while skipping events the store
// dropped, that another replica holds the lease now delivers nothing.
// Guards against: worker.go:141 `!ok` -> `false` (deliver after the lease was lost)
func TestNoDeliveryAfterLosingTheLease(t *testing.T) {
	m := audit.NewMemoryRetaining(4)
	appendN(t, m, 0, 40)
	cur := &strictCursors{MemoryCursors: audit.NewMemoryCursors(nil), lost: true}
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: 5 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	eventually(t, "several steps", func() bool { return cur.claims.Load() >= 5 })
	stop()
	if got := len(rec.all()); got != 0 {
		t.Fatalf("a worker that lost its lease delivered %d events", got)
	}
}

// TestOnlyTheHolderLeads pins that Stats reports Leader only for the replica holding the sink's
// lease.
// Guards against: worker.go:99 `w.leader.Store(holds)` -> `w.leader.Store(true)`
func TestOnlyTheHolderLeads(t *testing.T) {
	cur := &strictCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	newF := func() *auditsink.Forwarder {
		f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: cur, Poll: 5 * time.Millisecond,
			Targets: []auditsink.Target{{Name: "s", Sink: (&recorder{}).as("a")}}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := newF(), newF()
	stopA := a.Start(context.Background())
	defer stopA()
	eventually(t, "a to lead", func() bool { return a.Stats()[0].Leader })
	stopB := b.Start(context.Background())
	defer stopB()
	before := cur.claims.Load()
	eventually(t, "both to step", func() bool { return cur.claims.Load() >= before+6 })
	if !a.Stats()[0].Leader || b.Stats()[0].Leader {
		t.Fatalf("leaders: a %v, b %v; want only a", a.Stats()[0].Leader, b.Stats()[0].Leader)
	}
}

// TestDroppedEventsReportedOnceAndRestDeliveredOnce pins that when the store dropped events before
// the sink got them, the loss is logged once as an error, and the events the store still holds
// reach the sink each exactly once, in order (no batch delivered twice).
// Guards against: worker.go:152 `first + int64(len(events))` -> `pos + int64(len(events))`
// (duplicate batch)
// Guards against: worker.go:132 `first > pos` -> never true (silent loss)
func TestDroppedEventsReportedOnceAndRestDeliveredOnce(t *testing.T) {
	m := audit.NewMemoryRetaining(8)
	appendN(t, m, 0, 50)
	want := chainOf(t, m)
	if len(want) == 0 || want[0].ID == "e000" {
		t.Fatalf("the store dropped nothing: %d events", len(want))
	}
	var logs syncbuf.Buffer
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: 5 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBatch: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the retained events", func() bool { return len(rec.all()) >= len(want) })
	eventually(t, "pending 0", func() bool { return f.Stats()[0].Pending == 0 })
	stop()
	if got := rec.all(); !reflect.DeepEqual(got, want) {
		ids := make([]string, len(got))
		for i, e := range got {
			ids[i] = e.ID
		}
		t.Errorf("sink got %v, want the %d retained events once each", ids, len(want))
	}
	if n := strings.Count(logs.String(), "events were dropped"); n != 1 {
		t.Errorf("the loss was logged %d times, want once:\n%s", n, logs.String())
	}
}

// scripted is a Sink whose n-th delivery fails when fail[n] is set; it records the others.
type scripted struct {
	mu   sync.Mutex
	n    int
	fail map[int]bool
	got  []audit.Event
}

func (s *scripted) Deliver(_ context.Context, events []audit.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n++
	if s.fail[n] {
		return errors.New("receiver down")
	}
	s.got = append(s.got, events...)
	return nil
}

// TestBackoffRestartsAfterASuccess pins that a delivery that succeeds resets the count of failures:
// a failure right after it (the next batch) is attempt 1 again and backs off from the shortest
// wait, not from where the previous outage left it.
// Guards against: worker.go:70 `failures = 0` (after a delivery) dropped
func TestBackoffRestartsAfterASuccess(t *testing.T) {
	m := audit.NewMemory()
	appendN(t, m, 0, 3)
	var logs syncbuf.Buffer
	sink := &scripted{fail: map[int]bool{0: true, 1: true, 2: true, 4: true}}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: sink, MaxBatch: 1, MaxBackoff: time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the three events", func() bool { sink.mu.Lock(); defer sink.mu.Unlock(); return len(sink.got) == 3 })
	stop()
	var attempts []string
	for _, m := range regexp.MustCompile(`delivery failed.* attempt=(\d+)`).FindAllStringSubmatch(logs.String(), -1) {
		attempts = append(attempts, m[1])
	}
	if got := strings.Join(attempts, ","); got != "1,2,3,1" {
		t.Errorf("failed attempts logged as %s, want 1,2,3,1 (the count restarts after a success)", got)
	}
}

// failing is a Sink that fails every delivery and counts them.
type failing struct{ n atomic.Int64 }

func (s *failing) Deliver(context.Context, []audit.Event) error {
	s.n.Add(1)
	return errors.New("receiver down")
}

// TestAppendsDoNotCutTheBackoffShort pins that a failing sink is retried only after its backoff
// even while events keep being appended: appends wake an idle worker, not one backing off, so a
// busy server does not hammer a receiver that is down.
// Guards against: worker.go:68 `sleep(ctx, wait, nil, drain)` -> `sleep(ctx, wait, w.wake, drain)`
func TestAppendsDoNotCutTheBackoffShort(t *testing.T) {
	m := audit.NewMemory()
	sink := &failing{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: sink, MaxBackoff: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	store := f.Watch(m)
	appendN(t, store, 0, 1)
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the first attempt", func() bool { return sink.n.Load() >= 1 })
	// The first two backoffs are at least 50ms and 100ms: within 120ms of the first failure
	// there is room for at most one more attempt (two, allowing for scheduling).
	end := time.Now().Add(120 * time.Millisecond)
	for i := 1; time.Now().Before(end); i++ {
		appendN(t, store, i, 1)
		time.Sleep(2 * time.Millisecond)
	}
	if n := sink.n.Load(); n > 3 {
		t.Errorf("%d attempts within 120ms of the first failure: appends cut the backoff short", n)
	}
}

// TestCaughtUpSinkLogsNoErrors pins that a sink caught up with a chain that neither grows nor
// shrinks logs no error at all: neither "the chain went back" (same length is not shorter) nor
// "cursor past the end" (a cursor at the end is not past it). Such false alarms page operators
// about audit loss that did not happen.
// Guards against: worker.go:109 `head.Count < w.seen` -> `<=`
// Guards against: worker.go:115 `pos > head.Count` -> `>=`
func TestCaughtUpSinkLogsNoErrors(t *testing.T) {
	m := audit.NewMemory()
	cur := &countingCursors{MemoryCursors: audit.NewMemoryCursors(nil)}
	var logs syncbuf.Buffer
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{Chain: m, Cursors: cur, Poll: 5 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, m, 0, 5)
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the chain delivered", func() bool { return len(rec.all()) == 5 })
	before := cur.claims.Load()
	eventually(t, "more steps", func() bool { return cur.claims.Load() >= before+5 })
	stop()
	if s := logs.String(); strings.Contains(s, "level=ERROR") {
		t.Errorf("a caught-up sink logged errors:\n%s", s)
	}
}

// countingCursors counts the Claims of MemoryCursors: one per worker step.
type countingCursors struct {
	*audit.MemoryCursors
	claims atomic.Int64
}

func (c *countingCursors) Claim(ctx context.Context, sink, holder string, ttl time.Duration) (bool, error) {
	c.claims.Add(1)
	return c.MemoryCursors.Claim(ctx, sink, holder, ttl)
}

// claimsFailing are cursors whose lease claims fail at the given claim numbers (from 1).
type claimsFailing struct {
	*audit.MemoryCursors
	n    atomic.Int64
	fail map[int64]bool
}

func (c *claimsFailing) Claim(ctx context.Context, sink, holder string, ttl time.Duration) (bool, error) {
	if c.fail[c.n.Add(1)] {
		return false, errors.New("store down")
	}
	return c.MemoryCursors.Claim(ctx, sink, holder, ttl)
}

// TestBackoffRestartsAfterAnIdleStep pins that a step that finds nothing to deliver also resets
// the count of failures: after two failed claims, a step that succeeds with the chain caught up,
// and another failure, that failure is attempt 1 again, not 3.
// Guards against: worker.go `failures = 0` (after an idle step) dropped
func TestBackoffRestartsAfterAnIdleStep(t *testing.T) {
	var logs syncbuf.Buffer
	cur := &claimsFailing{MemoryCursors: audit.NewMemoryCursors(nil), fail: map[int64]bool{1: true, 2: true, 4: true}}
	f, err := auditsink.New(auditsink.Config{Chain: audit.NewMemory(), Cursors: cur, Poll: time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: &failing{}, MaxBackoff: time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "six claims", func() bool { return cur.n.Load() >= 6 })
	stop()
	var attempts []string
	for _, m := range regexp.MustCompile(`delivery failed.* attempt=(\d+)`).FindAllStringSubmatch(logs.String(), -1) {
		attempts = append(attempts, m[1])
	}
	if got := strings.Join(attempts, ","); got != "1,2,1" {
		t.Errorf("failed attempts logged as %s, want 1,2,1 (the count restarts after an idle step)", got)
	}
}
