package api

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// The refusal limit tracks at most maxActors actors, however many are refused within one window,
// and forgets ended windows as new ones open, without a scan of every actor tracked: on the old
// code 30,000 actors refused in one window were all kept, and each new one past maxActors scanned
// the whole map. An actor still tracked keeps its limit.
func TestRefusalLimitTracksBoundedActors(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 2, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	for i := range 3 * maxActors {
		if _, ok := l.admitRefusal(ctx, fmt.Sprintf("run:%08d", i)); !ok {
			t.Fatalf("the first refusal of actor %d was not admitted", i)
		}
	}
	if len(l.actors) > maxActors || len(l.order) > maxActors {
		t.Errorf("tracking %d actors in %d windows, past the bound %d", len(l.actors), len(l.order), maxActors)
	}
	last := fmt.Sprintf("run:%08d", 3*maxActors-1)
	if _, ok := l.admitRefusal(ctx, last); !ok {
		t.Fatal("the second refusal of the last actor was not admitted")
	}
	if _, ok := l.admitRefusal(ctx, last); ok {
		t.Error("the third refusal of the last actor in its window was admitted, past PerActor 2")
	}
	now = now.Add(time.Minute)
	if _, ok := l.admitRefusal(ctx, "run:new"); !ok {
		t.Fatal("a new actor's refusal in the next window was not admitted")
	}
	if len(l.actors) != 1 || len(l.order) != 1 {
		t.Errorf("after the window ended: tracking %d actors in %d windows, want 1 and 1", len(l.actors), len(l.order))
	}
}
