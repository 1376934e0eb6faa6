package audit_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestMayLandLaterCoversCancellation: an append whose caller left while it waited
// (context.Canceled, also wrapped) may still land later, like an unreachable store or a
// deadline; any other error never lands.
// Guards against: store.go:MayLandLater drop context.Canceled
func TestMayLandLaterCoversCancellation(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{context.Canceled, true},
		{fmt.Errorf("queued append: %w", context.Canceled), true},
		{context.DeadlineExceeded, true},
		{fmt.Errorf("%w: redis down", audit.ErrUnavailable), true},
		{errors.New("refused"), false},
		{audit.ErrBadCursor, false},
	}
	for _, tt := range tests {
		if got := audit.MayLandLater(tt.err); got != tt.want {
			t.Errorf("MayLandLater(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestRetainingZeroKeepsTheLatestEvent: a memory store asked to retain no events retains
// at least one, so the latest event stays listable.
// Guards against: store.go:NewMemoryRetaining retain floor 1 -> 0
func TestRetainingZeroKeepsTheLatestEvent(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemoryRetaining(0)
	for i := range 4 {
		id := fmt.Sprint(i)
		if _, err := m.Append(ctx, audit.Event{ID: id}, []string{"root"}); err != nil {
			t.Fatal(err)
		}
		events, _, err := m.List(ctx, "root", "", 10)
		if err != nil || len(events) == 0 || events[len(events)-1].ID != id {
			t.Fatalf("after appending %s: List = %v, %v; want the latest event kept", id, events, err)
		}
		if evs, _, _ := m.Range(ctx, 0, 10); len(evs) == 0 || evs[len(evs)-1].ID != id {
			t.Fatalf("after appending %s: Range = %v; want the latest event kept", id, evs)
		}
	}
}

// TestLeaseLapsesAtItsEnd: a sink's lease lapses the instant its ttl has passed: another
// holder may claim it then, and the former holder can no longer advance the cursor.
// Guards against: feed.go:Claim lease still held at exactly until (!now.After)
func TestLeaseLapsesAtItsEnd(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := audit.NewMemoryCursors(clk.Now)
	if ok, err := c.Claim(ctx, "sink", "a", 10*time.Second); err != nil || !ok {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	clk.Advance(10*time.Second - time.Nanosecond)
	if ok, _ := c.Claim(ctx, "sink", "b", 10*time.Second); ok {
		t.Fatal("b took a's lease before it lapsed")
	}
	clk.Advance(time.Nanosecond)
	if ok, _ := c.Advance(ctx, "sink", "a", audit.SinkCursor{Pos: 5}); ok {
		t.Error("a advanced the cursor on a lease that lapsed")
	}
	if ok, err := c.Claim(ctx, "sink", "b", 10*time.Second); err != nil || !ok {
		t.Fatalf("b could not claim the lease once it lapsed: %v, %v", ok, err)
	}
}

// TestUnindexedEventStillChains: an event appended under no space still extends the chain:
// the head's tail is its hash, and the next event's prev points at it.
// Guards against: store.go:appendLocked tail reset for an event without spaces
func TestUnindexedEventStillChains(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	first, err := m.Append(ctx, audit.Event{ID: "a"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := audit.Hash(first)
	if err != nil {
		t.Fatal(err)
	}
	if head, _ := m.Head(ctx); head.Count != 1 || head.Tail != want {
		t.Fatalf("Head = %+v; want 1 event ending in %s", head, want)
	}
	second, err := m.Append(ctx, audit.Event{ID: "b"}, []string{"root"})
	if err != nil || second.Prev != want {
		t.Fatalf("second event prev %q, %v; want %s", second.Prev, err, want)
	}
	if evs, _, _ := m.Range(ctx, 0, 10); audit.Verify(evs) != nil || len(evs) != 2 {
		t.Fatalf("Range = %v: want a chain of 2 that verifies", evs)
	}
}

// TestStateCheckpointMustBeACompactJWS: a verifier's state whose checkpoint is not a
// compact JWS of exactly three parts is refused, even when its middle part decodes to a claim.
// Guards against: anchor.go:decodeClaim len(parts) != 3 -> len(parts) < 2
func TestStateCheckpointMustBeACompactJWS(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://broker.test","count":0,"tail":""}`))
	for _, jws := range []string{"e30." + payload, "e30." + payload + ".c2ln.c2ln"} {
		state := &audit.State{Issuer: "https://broker.test", Checkpoint: jws}
		_, err := audit.VerifyAnchored(nil, audit.AnchorConfig{Issuer: "https://broker.test", State: state, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err == nil {
			t.Errorf("state checkpoint %q accepted; want an error", jws)
		}
	}
}
