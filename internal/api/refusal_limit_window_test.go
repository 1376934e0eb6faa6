package api

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestRefusalLimitLeavesUnauthenticatedAlone pins that refusals of unauthenticated requests (actor
// "unknown") are never left out by the per-actor limit: they are bounded per address by the
// failed-auth guard, and a shared "unknown" bucket would let 60 junk 401s a minute hide every later
// failed login from the trail.
// Guards against: refusal_limit.go:60 actor == unknownActor check dropped
func TestRefusalLimitLeavesUnauthenticatedAlone(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 3, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	for i := range 50 {
		note, ok := l.admitRefusal(ctx, unknownActor)
		if !ok || note != "" {
			t.Fatalf("unauthenticated refusal %d: admitted %v, note %q; want admitted with no note", i+1, ok, note)
		}
	}
	if len(l.actors) != 0 {
		t.Errorf("unauthenticated refusals are tracked as an actor: %v", l.actors)
	}
}

// TestRefusalLimitWindowBoundary pins the window's end: PerActor refusals are recorded in [start,
// start+Window), the next is not, and one at exactly start+Window opens a new window (recorded,
// with a note counting the one left out).
// Guards against: refusal_limit.go:74 now.Sub(c.start) >= l.Window -> >
// Guards against: refusal_limit.go:83 c.recorded >= l.PerActor -> >
// Guards against: refusal_limit.go:75 c.not > 0 -> >= 0 (a note when nothing was left out)
func TestRefusalLimitWindowBoundary(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start
	l := &RefusalLimit{PerActor: 2, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	const actor = "api_key:k"
	for i, want := range []bool{true, true, false} {
		note, ok := l.admitRefusal(ctx, actor)
		if ok != want || note != "" {
			t.Fatalf("refusal %d in the window: admitted %v note %q, want admitted %v and no note", i+1, ok, note, want)
		}
	}
	now = start.Add(time.Minute - time.Nanosecond)
	if _, ok := l.admitRefusal(ctx, actor); ok {
		t.Fatal("a refusal just before the window's end was admitted past PerActor")
	}
	now = start.Add(time.Minute)
	note, ok := l.admitRefusal(ctx, actor)
	if !ok {
		t.Fatal("the first refusal at exactly start+Window (a new window) was not admitted")
	}
	if want := " (2 further refusals of api_key:k in the 1m0s before were not recorded)"; note != want {
		t.Errorf("note %q, want %q", note, want)
	}
	// A window that left nothing out gives no note when it ends.
	now = now.Add(time.Minute)
	if note, ok := l.admitRefusal(ctx, "run:quiet"); !ok || note != "" {
		t.Fatalf("run:quiet first refusal: admitted %v note %q", ok, note)
	}
	now = now.Add(time.Minute)
	if note, ok := l.admitRefusal(ctx, "run:quiet"); !ok || note != "" {
		t.Errorf("run:quiet in its next window: admitted %v note %q, want admitted with no note", ok, note)
	}
}
