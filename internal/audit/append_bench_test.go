package audit_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/audit/audittest"
)

// BenchmarkMemoryAppend is the in-memory store's append of a token event (hash chain,
// canonical form, index per space), from every core.
func BenchmarkMemoryAppend(b *testing.B) {
	audittest.BenchAppend(b, audit.NewMemory())
}

// BenchmarkMemoryRetainedBytes reports the heap an in-memory store keeps per event it retains
// (retained-B/event), the figure that bounds a single replica's memory.
func BenchmarkMemoryRetainedBytes(b *testing.B) {
	ctx := context.Background()
	store := audit.NewMemoryRetaining(max(b.N, 1))
	const runID = "01JD8ZQ6Y3K9V2W4X5T7R8P0MN" // one run: its strings are shared, as the server's are
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := range b.N {
		// Built per event, as the server builds them: a fresh ID, time and detail.
		ev := audit.Event{
			ID: fmt.Sprintf("01JD8ZQ6Y3K9V2W4X5T%07d", i), Time: time.Now().UTC().Format(time.RFC3339Nano),
			Actor: "run:" + runID, Action: "token.issue", Space: "team-a", Stack: "app-a", Run: runID,
			Outcome: audit.Success, Detail: "scope=write aud=sts.amazonaws.com jti=" + fmt.Sprintf("q2Qd6c1c9m0W0b%08d", i),
		}
		if _, err := store.Append(ctx, ev, []string{"root", "prod", "team-a"}); err != nil {
			b.Fatalf("append: %v", err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(store)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "retained-B/event")
}
