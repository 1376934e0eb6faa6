package api

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestRefusalOrderStaysSmallBehindAnUnsaidNote: an actor whose window ended with refusals left
// out, and which is never refused again, keeps its count for a note without holding up the
// forgetting of every later window of other actors: order stays at the tracked actors' size.
// Guards against: refusal_limit.go forget stopping at such a window, order then growing by one
// window per window for as long as the replica runs.
func TestRefusalOrderStaysSmallBehindAnUnsaidNote(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 60, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	for range 61 { // one refusal past the limit, then this run finishes and is never seen again
		l.admitRefusal(ctx, "run:finished")
	}
	const windows = 3 * maxActors
	for range windows { // another key refused once a minute, for ~three weeks
		now = now.Add(time.Minute)
		l.admitRefusal(ctx, "api_key:monitor")
	}
	if len(l.order) > 2 {
		t.Errorf("tracking %d actors in %d windows after %d one-refusal windows; want at most 2 windows",
			len(l.actors), len(l.order), windows)
	}
}
