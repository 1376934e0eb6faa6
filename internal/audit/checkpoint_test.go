package audit_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
)

// fakeSign "signs" by wrapping the payload in a JWS-shaped string, and counts its calls.
type fakeSign struct {
	calls atomic.Int64
	err   error
	// before runs at the start of each call.
	before func()
}

func (f *fakeSign) sign(_ context.Context, payload []byte) (string, error) {
	f.calls.Add(1)
	if f.before != nil {
		f.before()
	}
	if f.err != nil {
		return "", f.err
	}
	return "e30." + base64.RawURLEncoding.EncodeToString(payload) + ".c2ln", nil
}

func claimOf(t *testing.T, e audit.Event) audit.Checkpoint {
	t.Helper()
	parts := strings.Split(e.Detail, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c audit.Checkpoint
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("checkpoint detail %q: %v", e.Detail, err)
	}
	return c
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func newCheckpointer(t *testing.T, store audit.Store, s *fakeSign, clk *clock) *audit.Checkpointer {
	t.Helper()
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{
		Store: store, Sign: s.sign, Issuer: "https://broker.test", Space: "root",
		Every: 5, Interval: time.Minute, MaxAge: 10 * time.Minute, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func appendN(t *testing.T, s audit.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := s.Append(context.Background(), audit.Event{ID: fmt.Sprint(i), Action: "token.issue", Space: "prod"}, []string{"prod", "root"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckpointDue walks the rule: a checkpoint once Every events follow the last one, or once
// one event does and Interval has passed (counted from the start before the first checkpoint),
// or once the last one is MaxAge old even with nothing after it; never for nothing.
func TestCheckpointDue(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &fakeSign{}
	cp := newCheckpointer(t, m, s, clk)
	steps := []struct {
		name    string
		appends int
		advance time.Duration
		want    bool
	}{
		{"empty chain", 0, 0, false},
		{"3 events, just started", 3, 0, false},
		{"59s after start", 0, 59 * time.Second, false},
		{"1m after start", 0, time.Second, true},
		{"nothing new, 2m later", 0, 2 * time.Minute, false},
		{"nothing new, 10m after the checkpoint", 0, 8 * time.Minute, true},
		{"right after", 0, 0, false},
		{"4 events", 4, 0, false},
		{"5th event", 1, 0, true},
		{"1 event, 59s", 1, 59 * time.Second, false},
		{"1 event, 1m", 0, time.Second, true},
	}
	for _, st := range steps {
		appendN(t, cp, st.appends)
		clk.Advance(st.advance)
		before, _ := m.Head(ctx)
		got, err := cp.Check(ctx)
		if err != nil || got != st.want {
			t.Fatalf("%s: checkpoint written %v, %v; want %v", st.name, got, err, st.want)
		}
		if !got {
			continue
		}
		h, _ := m.Head(ctx)
		e := *h.Checkpoint
		if h.CheckpointAt != before.Count || e.Prev != before.Tail || e.Action != audit.CheckpointAction || e.Actor != audit.CheckpointActor ||
			e.Space != "root" || e.Outcome != audit.Success || e.Time != clk.now.Format(time.RFC3339Nano) {
			t.Fatalf("%s: checkpoint event %+v at %d", st.name, e, h.CheckpointAt)
		}
		want := audit.Checkpoint{Issuer: "https://broker.test", Count: before.Count, Tail: before.Tail, Time: e.Time, Every: 5, Interval: 60}
		if c := claimOf(t, e); c != want {
			t.Fatalf("%s: claim %+v, want %+v", st.name, c, want)
		}
	}
	if listed, _, _ := m.List(ctx, "root", "", 100); len(listed) != 13 {
		t.Errorf("root lists %d events, want 9 and 4 checkpoints", len(listed))
	}
}

// TestCheckpointNeverOnTheAppendPath: appends only wake Run; without Run nothing is signed.
func TestCheckpointNeverOnTheAppendPath(t *testing.T) {
	s := &fakeSign{}
	cp := newCheckpointer(t, audit.NewMemory(), s, &clock{now: time.Now()})
	appendN(t, cp, 50)
	if n := s.calls.Load(); n != 0 {
		t.Errorf("appends signed %d times", n)
	}
}

// TestCheckpointRunWakesOnAppends: Run writes a checkpoint once Every events are appended,
// without waiting for its timer.
func TestCheckpointRunWakesOnAppends(t *testing.T) {
	m := audit.NewMemory()
	s := &fakeSign{}
	cp := newCheckpointer(t, m, s, &clock{now: time.Now()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cp.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	appendN(t, cp, 5)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := m.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Checkpoint != nil {
			if h.CheckpointAt != 5 || claimOf(t, *h.Checkpoint).Count != 5 {
				t.Errorf("checkpoint at %d: %+v", h.CheckpointAt, *h.Checkpoint)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint 10s after 5 appends with every=5")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCheckpointOneOfTwoReplicas: when another replica writes a checkpoint while this one signs,
// only the first is appended.
func TestCheckpointOneOfTwoReplicas(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	clk := &clock{now: time.Now()}
	sb := &fakeSign{}
	b := newCheckpointer(t, m, sb, clk)
	sa := &fakeSign{before: func() {
		if wrote, err := b.Check(ctx); !wrote || err != nil {
			t.Errorf("replica B: %v, %v", wrote, err)
		}
	}}
	a := newCheckpointer(t, m, sa, clk)
	appendN(t, a, 5)
	if wrote, err := a.Check(ctx); wrote || err != nil {
		t.Errorf("replica A wrote %v, %v after B wrote one meanwhile", wrote, err)
	}
	events, _, _ := m.List(ctx, audit.CheckpointIndex, "", 10)
	if len(events) != 1 {
		t.Errorf("%d checkpoints, want 1", len(events))
	}
}

func TestCheckpointSigningFailureAppendsNothing(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	cp := newCheckpointer(t, m, &fakeSign{err: errors.New("vault down")}, &clock{now: time.Now()})
	appendN(t, cp, 5)
	if wrote, err := cp.Check(ctx); wrote || err == nil || !strings.Contains(err.Error(), "vault down") {
		t.Errorf("Check = %v, %v; want the signing error", wrote, err)
	}
	if h, _ := m.Head(ctx); h.Count != 5 || h.Checkpoint != nil {
		t.Errorf("head %+v after a failed signature", h)
	}
}

// TestCheckpointCountsEventsAppendedWhileSigning: events appended while a checkpoint is signed
// stand before it in the chain but are not covered by it; they count towards the next one.
func TestCheckpointCountsEventsAppendedWhileSigning(t *testing.T) {
	store := audit.NewMemory()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &fakeSign{}
	cp := newCheckpointer(t, store, s, clk) // every 5 events
	appendN(t, store, 5)
	s.before = func() { appendN(t, store, 3); s.before = nil } // 3 events land during signing
	if wrote, err := cp.Check(context.Background()); err != nil || !wrote {
		t.Fatalf("first checkpoint: %v, %v", wrote, err)
	}
	appendN(t, store, 2) // 3 + 2 = 5 events not covered: a checkpoint is due
	if wrote, err := cp.Check(context.Background()); err != nil || !wrote {
		t.Fatalf("second checkpoint: wrote %v, %v; want one covering the 5 uncovered events", wrote, err)
	}
	head, err := store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c := claimOf(t, *head.Checkpoint); c.Count != 11 {
		t.Errorf("second checkpoint covers %d events, want 11", c.Count)
	}
}

// TestCheckpointerContract: the Checkpointer is the audit.Store every replica records through,
// so it passes the store contract itself (two Checkpointers over one chain, as two replicas).
func TestCheckpointerContract(t *testing.T) {
	audittest.TestStore(t, func(t *testing.T) (audit.Store, audit.Store) {
		m := audit.NewMemory()
		clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		return newCheckpointer(t, m, &fakeSign{}, clk), newCheckpointer(t, m, &fakeSign{}, clk)
	})
}

// TestCheckpointAppendedIsToldOfEachCheckpointWritten: Appended is called once for each
// checkpoint a Checkpointer appends, and not when none is due or another replica's came first.
func TestCheckpointAppendedIsToldOfEachCheckpointWritten(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	clk := &clock{now: time.Now()}
	var told int
	newTelling := func(s *fakeSign) *audit.Checkpointer {
		cp, err := audit.NewCheckpointer(audit.CheckpointConfig{
			Store: m, Sign: s.sign, Issuer: "https://broker.test", Space: "root",
			Every: 5, Interval: time.Minute, Now: clk.Now, Appended: func() { told++ },
		})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	b := newTelling(&fakeSign{})
	a := newTelling(&fakeSign{before: func() { _, _ = b.Check(ctx) }})
	for i, step := range []struct {
		appends   int
		check     *audit.Checkpointer
		wantWrote bool
		wantTold  int
	}{
		{appends: 4, check: b, wantWrote: false, wantTold: 0}, // none due
		{appends: 1, check: b, wantWrote: true, wantTold: 1},
		{appends: 5, check: a, wantWrote: false, wantTold: 2}, // b's came first, told by b
	} {
		appendN(t, m, step.appends)
		wrote, err := step.check.Check(ctx)
		if err != nil || wrote != step.wantWrote || told != step.wantTold {
			t.Errorf("step %d: wrote %v (%v), told %d times; want wrote %v, told %d", i, wrote, err, told, step.wantWrote, step.wantTold)
		}
	}
}
