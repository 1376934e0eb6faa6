package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestCheckpointAtStart: Run checks as it starts, holding the chain to the stricter of its own
// schedule and the one the latest checkpoint signs (which a verifier holds the events after it
// to): it writes a checkpoint at once when that checkpoint is older than the interval with events
// after it, or when more events follow it than the stricter every; with the chain anchored
// recently, or never anchored (its events' age unknown), it writes none (its MaxAge aside).
func TestCheckpointAtStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before prepares the chain with a checkpointer of every (0: no checkpoint).
		every int64
		after int           // events appended after that checkpoint
		down  time.Duration // between the checkpoint and the start
		want  bool
	}{
		{"events and no checkpoint", 0, 3, 0, false},
		{"a checkpoint of a stricter schedule, as many events after it", 3, 3, 0, true},
		{"a checkpoint of another schedule", 3, 0, 0, false},
		{"a checkpoint of this schedule, events after it", 5, 2, 0, false},
		{"a checkpoint of this schedule, events after it, an hour ago", 5, 2, time.Hour, true},
		{"a checkpoint of this schedule, older than MaxAge", 5, 0, time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := audit.NewMemory()
			clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			s := &fakeSign{}
			if tc.every > 0 {
				before, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: m, Sign: s.sign, Issuer: "https://broker.test",
					Space: "root", Every: tc.every, Interval: time.Minute, Now: clk.Now})
				if err != nil {
					t.Fatal(err)
				}
				appendN(t, m, int(tc.every))
				if wrote, err := before.Check(context.Background()); err != nil || !wrote {
					t.Fatalf("the first checkpoint: %v, %v", wrote, err)
				}
			}
			appendN(t, m, tc.after)
			clk.Advance(tc.down)
			before, _ := m.Head(context.Background())
			cp := newCheckpointer(t, m, s, clk) // every 5, interval 1m: due by neither
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); cp.Run(ctx) }()
			deadline := time.Now().Add(2 * time.Second)
			var wrote bool
			for !wrote && time.Now().Before(deadline) {
				h, _ := m.Head(context.Background())
				wrote = h.Checkpoint != nil && h.CheckpointAt >= before.Count
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			if wrote != tc.want {
				t.Errorf("a checkpoint at start: %v, want %v", wrote, tc.want)
			}
		})
	}
}
