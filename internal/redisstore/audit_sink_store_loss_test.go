package redisstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

type lossSink struct {
	mu  sync.Mutex
	ids map[string]bool
	n   int
}

func (s *lossSink) Deliver(_ context.Context, events []audit.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		s.ids[e.ID] = true
		s.n++
	}
	return nil
}

func (s *lossSink) count() int { s.mu.Lock(); defer s.mu.Unlock(); return s.n }
func (s *lossSink) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

type lossLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lossLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lossLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestSinkReceivesEventsAppendedAfterTheStoreLostSome: a sink receives every audit event at
// least once, also when Redis loses the last acknowledged audit writes (a Sentinel failover to
// a replica that had not received them: contract section 9 accepts losing the last second of
// writes) after the sink's cursor had passed them, and new events are appended at the lost
// positions before any worker sees the chain shorter (the worker delivering next is another
// replica's, or a restarted one). The cursor keeps the hash of the last event the sink
// received; the worker finds the chain no longer holds it there and moves the cursor back to
// the first position the sink may not have received, with a warning and a count.
// Guards against: auditsink/worker.go:step delivers from the saved cursor past events appended at the positions of lost ones, and never delivers them
func TestSinkReceivesEventsAppendedAfterTheStoreLostSome(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "sink-store-loss:", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	store := c.Audit()
	sink := &lossSink{ids: map[string]bool{}}
	logs := &lossLog{}
	newForwarder := func() *auditsink.Forwarder {
		f, err := auditsink.New(auditsink.Config{Chain: store.(auditsink.Chain), Cursors: store.(audit.Cursors), Poll: 5 * time.Millisecond,
			Logger:  slog.New(slog.NewTextHandler(logs, nil)),
			Targets: []auditsink.Target{{Name: "siem", Sink: sink}}})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// Replica A delivers the first ten events, then stops (restart, deploy, or the lease passes
	// to replica B: a worker that never saw the chain shorter).
	f := newForwarder()
	stop := f.Start(ctx)
	watched := f.Watch(store)
	add := func(s audit.Store, prefix string, n int) []string {
		var ids []string
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("%s-%d", prefix, i)
			if _, err := s.Append(ctx, audit.Event{ID: id, Time: time.Now().UTC().Format(time.RFC3339Nano), Action: "token.issue",
				Space: "prod", Outcome: audit.Success}, []string{"prod", "root"}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	add(watched, "old", 10)
	deadline := time.Now().Add(5 * time.Second)
	for sink.count() < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if sink.count() != 10 {
		t.Fatalf("setup: the sink got %d of 10 events", sink.count())
	}
	stop()

	// The failover: the new primary lacks the last 3 events (positions 7..9); its tail is event 6's hash.
	rdb, p := c.Redis(), c.Prefix()
	raw, err := rdb.LIndex(ctx, p+"audit:events", 6).Result()
	if err != nil {
		t.Fatal(err)
	}
	e6, err := audit.ParseEvent([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	tail, _ := audit.Hash(e6)
	for _, k := range []string{"audit:events", "audit:space:root", "audit:space:prod"} {
		if err := rdb.LTrim(ctx, p+k, 0, 6).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Set(ctx, p+"audit:tail", tail, 0).Err(); err != nil {
		t.Fatal(err)
	}

	// Requests go on: five new events, at positions 7..11, before the worker's next step.
	fresh := add(store, "new", 5)
	// Replica B's worker (or A's, restarted) delivers from the saved cursor.
	next := newForwarder()
	stop = next.Start(ctx)
	defer stop()
	deadline = time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, id := range fresh {
			all = all && sink.has(id)
		}
		if all {
			stop()
			if n := next.Stats()[0].Rewinds; n != 1 {
				t.Errorf("%d rewinds counted, want 1", n)
			}
			if !strings.Contains(logs.String(), "level=WARN msg=\"audit sink: the audit chain went back below events this sink received") {
				t.Errorf("the rewind was not logged as a warning:\n%s", logs.String())
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	var missing []string
	for _, id := range fresh {
		if !sink.has(id) {
			missing = append(missing, id)
		}
	}
	head, _ := store.Head(ctx)
	t.Errorf("the sink never received %v of the %d events appended after the loss (chain now %d events); "+
		"an error logged: %v", missing, len(fresh), head.Count, strings.Contains(logs.String(), "level=ERROR"))
}

// TestSinkCursorOfAnOlderBroker: a cursor saved by a broker that kept no marks (the position
// alone) reads as that position without marks, and so do marks left behind once such a broker
// advanced the cursor past them: marks count only with the position they were saved with.
// Guards against: audit_sinks.go:Cursor trusts marks saved at another position than the cursor
func TestSinkCursorOfAnOlderBroker(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Prefix: "sink-older:", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cursors := c.Audit().(audit.Cursors)
	rdb, p := c.Redis(), c.Prefix()
	if err := rdb.Set(ctx, p+"audit:sink:siem:cursor", 7, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := cursors.Cursor(ctx, "siem"); err != nil || got.Pos != 7 || got.Marks != nil {
		t.Fatalf("older broker's cursor = %+v, %v; want position 7 without marks", got, err)
	}
	if ok, err := cursors.Claim(ctx, "siem", "a", time.Minute); err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	marked := audit.SinkCursor{Pos: 9, Marks: []audit.Mark{{Pos: 8, Hash: "h8"}}}
	if ok, err := cursors.Advance(ctx, "siem", "a", marked); err != nil || !ok {
		t.Fatalf("Advance = %v, %v", ok, err)
	}
	if got, err := cursors.Cursor(ctx, "siem"); err != nil || got.Pos != 9 || len(got.Marks) != 1 || got.Marks[0] != marked.Marks[0] {
		t.Fatalf("cursor = %+v, %v; want %+v", got, err, marked)
	}
	// An older broker's replica advances the position alone.
	if err := rdb.Set(ctx, p+"audit:sink:siem:cursor", 12, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := cursors.Cursor(ctx, "siem"); err != nil || got.Pos != 12 || got.Marks != nil {
		t.Errorf("cursor advanced by an older broker = %+v, %v; want position 12 without marks", got, err)
	}
}
