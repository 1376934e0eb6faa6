package audit_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/fakeclock"
	"github.com/brokerhq/broker/internal/testutil/syncbuf"
)

// TestGuardMemoryRetention: a replica's memory store drops its oldest events, those the last
// checkpoint covered among them; its checkpointer, which does not check a store held in its own
// process, goes on signing over the events it still holds.
func TestGuardMemoryRetention(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemoryRetaining(4)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cp := newCheckpointer(t, m, &fakeSign{}, clk)
	for round := range 4 {
		appendN(t, cp, 12) // the last checkpoint, and more, dropped each round
		if wrote, err := cp.Check(ctx); !wrote || err != nil {
			t.Fatalf("round %d: checkpoint written %v, %v; want one", round, wrote, err)
		}
	}
}

// TestRefusalLoggedOnceAMinute: a checkpointer that will not sign over a changed chain says so
// at its first check, then once a minute, not at every check (appends wake it several times a
// second under load).
func TestRefusalLoggedOnceAMinute(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := audit.NewMemory()
	store := sharedMemory{m}
	clk := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var logs syncbuf.Buffer
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{
		Store: store, Sign: (&fakeSign{}).sign, Issuer: "https://broker.test", Space: "root",
		Every: 4, Interval: time.Minute, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, cp, 4)
	if wrote, err := cp.Check(ctx); !wrote || err != nil {
		t.Fatalf("first checkpoint: %v, %v", wrote, err)
	}
	held, _, _ := m.List(ctx, "root", "", 100)
	held = held[1:] // the first event removed, the links left as they were
	audit.MemoryTamperer{M: m}.Replace(t, held)
	done := make(chan struct{})
	go func() { defer close(done); cp.Run(ctx) }()
	for range 40 { // each wakes Run
		appendN(t, cp, 1)
		time.Sleep(2 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "not signing checkpoints"); n != 1 {
		t.Errorf("%d refusals logged within the same minute, want 1:\n%s", n, logs.String())
	}
	clk.Advance(time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(logs.String(), "not signing checkpoints") < 2 && time.Now().Before(deadline) {
		appendN(t, cp, 1)
		time.Sleep(5 * time.Millisecond)
	}
	if n := strings.Count(logs.String(), "not signing checkpoints"); n != 2 {
		t.Errorf("%d refusals logged after a minute, want 2", n)
	}
	cancel()
	<-done
}

// TestGuardPages: the check walks a stretch of the chain longer than a page of its listing,
// signing over it when intact and finding a broken link in its middle.
func TestGuardPages(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{
		Store: sharedMemory{m}, Sign: (&fakeSign{}).sign, Issuer: "https://broker.test", Space: "root",
		Every: 250, Interval: time.Hour, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // the second walks 251 events
		appendN(t, cp, 250)
		if wrote, err := cp.Check(ctx); !wrote || err != nil {
			t.Fatalf("round %d over 250 events: checkpoint written %v, %v", round, wrote, err)
		}
	}
	// 250 more, and the 150th of them changed in the store: the walk from the last checkpoint
	// finds the link after it broken, two pages on.
	appendN(t, cp, 250)
	held, _, _ := m.List(ctx, "root", "", 1000)
	held[652].Detail = "scope write"
	audit.MemoryTamperer{M: m}.Replace(t, held)
	wrote, err := cp.Check(ctx)
	if wrote || !errors.Is(err, audit.ErrNotExtended) || !strings.Contains(err.Error(), "position 653") {
		t.Errorf("over the changed chain: checkpoint written %v, %v; want none, ErrNotExtended at position 653", wrote, err)
	}
}
