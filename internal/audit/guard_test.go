package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
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
