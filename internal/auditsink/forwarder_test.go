package auditsink_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/runs"
)

// recorder is a Sink that fails its first failures deliveries and records the others.
type recorder struct {
	mu       sync.Mutex
	failures int
	batches  [][]audit.Event
	by       []string // which forwarder delivered each batch
	inFlight int
	overlap  bool
}

func (r *recorder) as(who string) auditsink.Sink { return recorderAs{r, who} }

type recorderAs struct {
	r   *recorder
	who string
}

func (s recorderAs) Deliver(_ context.Context, events []audit.Event) error {
	r := s.r
	r.mu.Lock()
	r.inFlight++
	r.overlap = r.overlap || r.inFlight > 1
	r.mu.Unlock()
	time.Sleep(time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	if r.failures > 0 {
		r.failures--
		return errors.New("receiver down")
	}
	r.batches = append(r.batches, events)
	r.by = append(r.by, s.who)
	return nil
}

func (r *recorder) all() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

func appendN(t *testing.T, s audit.Store, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := s.Append(context.Background(), audit.Event{ID: fmt.Sprintf("e%03d", i)}, []string{"root"}); err != nil {
			t.Fatal(err)
		}
	}
}

func chainOf(t *testing.T, m *audit.Memory) []audit.Event {
	t.Helper()
	evs, _, err := m.Range(context.Background(), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// After failures the worker starts again from its cursor: the sink gets the chain in order,
// in batches of at most MaxBatch, each starting where the last delivered one ended.
func TestForwarderResumesFromTheCursor(t *testing.T) {
	m := audit.NewMemory()
	rec := &recorder{failures: 5}
	f, err := auditsink.New(auditsink.Config{
		Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: 10 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBatch: 4, MaxBackoff: 20 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	store := f.Watch(m)
	appendN(t, store, 0, 30)
	stop := f.Start(context.Background())
	defer stop()
	appendN(t, store, 30, 7)
	want := chainOf(t, m)
	eventually(t, "the whole chain", func() bool { return len(rec.all()) >= len(want) })
	if got := rec.all(); !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %d events, not the chain of %d in order", len(got), len(want))
	}
	rec.mu.Lock()
	for i, b := range rec.batches {
		if len(b) == 0 || len(b) > 4 {
			t.Errorf("batch %d holds %d events", i, len(b))
		}
	}
	rec.mu.Unlock()
	st := f.Stats()[0]
	if st.MaxHeld > 4 || st.Held != 0 {
		t.Errorf("stats %+v", st)
	}
	eventually(t, "pending 0", func() bool { return f.Stats()[0].Pending == 0 })
}

// Two replicas on one store: one at a time delivers; when it stops, the other takes over
// from the saved cursor.
func TestForwarderOneReplicaAtATime(t *testing.T) {
	m, cursors := audit.NewMemory(), audit.NewMemoryCursors(nil)
	rec := &recorder{}
	newF := func(who string) *auditsink.Forwarder {
		f, err := auditsink.New(auditsink.Config{
			Chain: m, Cursors: cursors, Poll: 10 * time.Millisecond,
			Targets: []auditsink.Target{{Name: "s", Sink: rec.as(who), MaxBatch: 3, MaxBackoff: 20 * time.Millisecond}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a, b := newF("a"), newF("b")
	stopA := a.Start(context.Background())
	eventually(t, "a to take the lease", func() bool {
		ok, _ := cursors.Claim(context.Background(), "s", "probe", time.Millisecond)
		return !ok
	})
	stopB := b.Start(context.Background())
	defer stopB()
	appendN(t, m, 0, 20)
	eventually(t, "the first 20 events", func() bool { return len(rec.all()) >= 20 })
	stopA()
	appendN(t, m, 20, 20)
	want := chainOf(t, m)
	eventually(t, "all 40 events", func() bool { return len(rec.all()) >= 40 })
	got := rec.all()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("delivered %d events, not the chain of %d in order", len(got), len(want))
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.overlap {
		t.Error("two replicas delivered to one sink at the same time")
	}
	switched := 0
	for i := 1; i < len(rec.by); i++ {
		if rec.by[i] != rec.by[i-1] {
			switched++
		}
	}
	if rec.by[0] != "a" || rec.by[len(rec.by)-1] != "b" || switched != 1 {
		t.Errorf("deliveries by %v: want a, then b once a stopped", rec.by)
	}
}

// hangsOnce is a Sink whose first delivery hangs until its context ends.
type hangsOnce struct {
	recorder
	hung bool
}

func (h *hangsOnce) Deliver(ctx context.Context, events []audit.Event) error {
	h.mu.Lock()
	first := !h.hung
	h.hung = true
	h.mu.Unlock()
	if first {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.as("a").Deliver(ctx, events)
}

// A delivery that hangs is cut off after the target's Timeout and tried again.
func TestForwarderTimesOutAHangingDelivery(t *testing.T) {
	m := audit.NewMemory()
	sink := &hangsOnce{}
	f, err := auditsink.New(auditsink.Config{
		Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: 10 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: sink, Timeout: 50 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, m, 0, 5)
	stop := f.Start(context.Background())
	defer stop()
	want := chainOf(t, m)
	eventually(t, "the chain after the hung delivery", func() bool { return reflect.DeepEqual(sink.all(), want) })
}

// While a delivery hangs, the events appended on this replica count as pending at once: the
// metric does not freeze at what the worker last saw.
func TestPendingGrowsWhileADeliveryHangs(t *testing.T) {
	m := audit.NewMemory()
	sink := &hangsOnce{}
	f, err := auditsink.New(auditsink.Config{
		Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: 10 * time.Millisecond,
		Targets: []auditsink.Target{{Name: "s", Sink: sink, Timeout: time.Hour, MaxBatch: 100, MaxBackoff: 20 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	store := f.Watch(m)
	appendN(t, store, 0, 2)
	ctx, cancel := context.WithCancel(context.Background())
	stop := f.Start(ctx)
	defer stop()
	defer cancel()
	eventually(t, "the delivery hanging", func() bool { return f.Stats()[0].Held == 2 })
	appendN(t, store, 2, 10)
	if got := f.Stats()[0].Pending; got != 12 {
		t.Errorf("pending %d while the first delivery hangs, want 12 (2 held, 10 appended since)", got)
	}
}

// checkingStore is an audit.CheckedStore over a memory chain that takes every Version whose
// digest is "current" and refuses the others.
type checkingStore struct{ *audit.Memory }

func (c checkingStore) AppendChecked(ctx context.Context, e audit.Event, spaces []string, v runs.Version) (audit.Event, error) {
	if v.Digest != "current" {
		return audit.Event{}, runs.ErrChanged
	}
	return c.Append(ctx, e, spaces)
}

// A watched store checks a run as the store it watches does, and wakes the workers when a
// checked event lands; a watched store that cannot check refuses, as that store would.
func TestWatchKeepsCheckedAppends(t *testing.T) {
	m := audit.NewMemory()
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{
		Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBatch: 4, MaxBackoff: 20 * time.Millisecond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	defer stop()
	ev := audit.Event{ID: "e1", Time: "2026-01-01T00:00:00Z", Action: "token.issue", Space: "root", Outcome: audit.Success}
	cs, ok := f.Watch(checkingStore{m}).(audit.CheckedStore)
	if !ok {
		t.Fatal("a watched CheckedStore is no CheckedStore")
	}
	if _, err := cs.AppendChecked(context.Background(), ev, []string{"root"}, runs.Version{ID: "r", Digest: "stale"}); !errors.Is(err, runs.ErrChanged) {
		t.Fatalf("stale Version: %v, want ErrChanged", err)
	}
	if _, err := cs.AppendChecked(context.Background(), ev, []string{"root"}, runs.Version{ID: "r", Digest: "current"}); err != nil {
		t.Fatalf("current Version: %v", err)
	}
	eventually(t, "the checked event delivered without a poll", func() bool { return len(rec.all()) == 1 })
	plain, ok := f.Watch(m).(audit.CheckedStore)
	if !ok {
		t.Fatal("a watched store is no CheckedStore")
	}
	if _, err := plain.AppendChecked(context.Background(), ev, []string{"root"}, runs.Version{ID: "r", Digest: "current"}); !errors.Is(err, runs.ErrChanged) {
		t.Fatalf("a store that cannot check: %v, want ErrChanged", err)
	}
}

// TestDrainDeliversTheChainBeforeStop: Drain returns once the sink has every event the chain
// held, however long the poll (an hour here), and stop after it interrupts nothing; with a
// sink that keeps failing, Drain gives up at the first failure instead of waiting out its
// context.
func TestDrainDeliversTheChainBeforeStop(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int
	}{{"a working sink", 0}, {"a failing sink", 1 << 30}} {
		t.Run(tc.name, func(t *testing.T) {
			m := audit.NewMemory()
			rec := &recorder{failures: tc.failures}
			f, err := auditsink.New(auditsink.Config{
				Chain: m, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
				Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBatch: 3, MaxBackoff: time.Hour}},
			})
			if err != nil {
				t.Fatal(err)
			}
			stop := f.Start(context.Background())
			defer stop()
			appendN(t, m, 0, 10) // not watched: no worker hears of them before Drain
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			f.Drain(ctx)
			if ctx.Err() != nil {
				t.Fatalf("Drain waited out its context (%v)", time.Since(start))
			}
			stop()
			want := 10
			if tc.failures > 0 {
				want = 0
			}
			if got := len(rec.all()); got != want {
				t.Errorf("the sink got %d events by Drain's return, want %d", got, want)
			}
		})
	}
}

// shrinking is a chain whose Head reports count events until it is told otherwise: a store
// that went back.
type shrinking struct {
	*audit.Memory
	mu    sync.Mutex
	count int64
}

func (s *shrinking) Head(ctx context.Context) (audit.Head, error) {
	h, err := s.Memory.Head(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count >= 0 {
		h.Count = min(h.Count, s.count)
	}
	return h, err
}

// TestChainGoingBackIsLogged: a worker that finds the chain shorter than it was logs an error
// saying the store lost events.
func TestChainGoingBackIsLogged(t *testing.T) {
	var logs strings.Builder
	var logMu sync.Mutex
	m := audit.NewMemory()
	chain := &shrinking{Memory: m, count: -1}
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{
		Chain: chain, Cursors: audit.NewMemoryCursors(nil), Poll: 5 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil)),
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, m, 0, 5)
	stop := f.Start(context.Background())
	defer stop()
	eventually(t, "the chain delivered", func() bool { return len(rec.all()) == 5 })
	chain.mu.Lock()
	chain.count = 2
	chain.mu.Unlock()
	eventually(t, "the error logged", func() bool {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Contains(logs.String(), "the audit chain went back")
	})
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// gatedChain is a memory chain whose Head, once armed, reads the head and then waits for gate
// (after saying so on entered): a worker caught between reading the chain's head and a later
// append.
type gatedChain struct {
	*audit.Memory
	armed         atomic.Bool
	entered, gate chan struct{}
}

func (g *gatedChain) Head(ctx context.Context) (audit.Head, error) {
	h, err := g.Memory.Head(ctx)
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.gate
	}
	return h, err
}

// TestDrainDeliversAnEventAppendedDuringAStep: an event appended while a worker's step had
// already read the chain's head, and Drain called before that step ends, is still delivered
// before Drain returns: a step that began before Drain does not count as the drain's last.
func TestDrainDeliversAnEventAppendedDuringAStep(t *testing.T) {
	m := audit.NewMemory()
	chain := &gatedChain{Memory: m, entered: make(chan struct{}), gate: make(chan struct{})}
	rec := &recorder{}
	f, err := auditsink.New(auditsink.Config{
		Chain: chain, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: rec.as("a"), MaxBatch: 10, MaxBackoff: time.Hour}},
	})
	if err != nil {
		t.Fatal(err)
	}
	store := f.Watch(m)
	stop := f.Start(context.Background())
	defer stop()
	appendN(t, store, 0, 3)
	eventually(t, "the first three events", func() bool { return len(rec.all()) == 3 })
	chain.armed.Store(true)
	f.Notify() // a step starts and reads the head: three events
	<-chain.entered
	appendN(t, m, 3, 1) // the fourth, appended behind the worker's back
	drained := make(chan struct{})
	go func() {
		f.Drain(context.Background())
		close(drained)
	}()
	time.Sleep(50 * time.Millisecond) // Drain has closed its channel by now
	close(chain.gate)
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("Drain did not return")
	}
	if got := len(rec.all()); got != 4 {
		t.Errorf("after Drain the sink holds %d events, want 4", got)
	}
}
