package audittest

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// tokenEvent is the event of one issued token, as the server records it: a ULID, a nanosecond
// time, the run as actor, the audience and jti as detail.
func tokenEvent(n int64) audit.Event {
	return audit.Event{
		ID: "01JD8ZQ6Y3K9V2W4X5T7" + strconv.FormatInt(100000+n%900000, 10), Time: "2026-12-01T09:30:00.123456789Z",
		Actor: "run:01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Action: "token.issue", Space: "team-a", Stack: "app-a",
		Run: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", Outcome: audit.Success, Detail: "scope=write aud=sts.amazonaws.com jti=q2Qd6c1c9m0W0bM3pY5lVg",
	}
}

// tokenSpaces is the space path a token event of a three-level tree is indexed under.
var tokenSpaces = []string{"root", "prod", "team-a"}

// BenchAppend measures Append of token events to store from every core (RunParallel, with
// allocations), failing on any error or on a stored event without its chain link.
func BenchAppend(b *testing.B, store audit.Store) {
	ctx := context.Background()
	if _, err := store.Append(ctx, tokenEvent(0), tokenSpaces); err != nil {
		b.Fatalf("first append: %v", err)
	}
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			got, err := store.Append(ctx, tokenEvent(seq.Add(1)), tokenSpaces)
			if err != nil {
				b.Errorf("append: %v", err)
				return
			}
			if got.Prev == "" {
				b.Errorf("appended event %s has no prev", got.ID)
				return
			}
		}
	})
}
