package api

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
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
	// The last actor's ended window left a refusal out: its count stays for its note; every
	// ended window is forgotten.
	if len(l.actors) != 1 || len(l.order) != 1 || l.unsaid[last].n != 1 {
		t.Errorf("after the window ended: tracking %d actors in %d windows, %d refusals unsaid for the last actor; want 1, 1 and 1",
			len(l.actors), len(l.order), l.unsaid[last].n)
	}
	if note, ok := l.admitRefusal(ctx, last); !ok || !strings.Contains(note, "1 further refusals") {
		t.Errorf("the last actor's next refusal: admitted %v, note %q, want it to say 1 was not recorded", ok, note)
	}
}

// One actor refused once a window for many windows leaves the tracking at its size: a window
// it replaced is dropped from order as the next opens.
func TestRefusalLimitOrderStaysSmall(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 2, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	for range 1000 {
		l.admitRefusal(ctx, "api_key:a")
		now = now.Add(time.Minute)
	}
	if len(l.actors) != 1 || len(l.order) > 2 {
		t.Errorf("one actor over 1,000 windows: tracking %d actors in %d windows, want 1 in at most 2", len(l.actors), len(l.order))
	}
}

// A window an actor replaced, still at the front of order, is dropped without touching the
// actor's current window: the actor keeps its count, and its refusals past PerActor stay out.
func TestRefusalLimitReplacedWindowKeepsTheCurrent(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	now := start.Add(120 * time.Second)
	l := &RefusalLimit{PerActor: 2, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	// a's first window ended and was replaced by one in which a was refused twice; the first
	// is still at the front of order (another actor's window stood before it when a replaced
	// it).
	ended, current := &refusals{start: start}, &refusals{start: start.Add(100 * time.Second), recorded: 2}
	l.actors = map[string]*refusals{"api_key:a": current}
	l.order = []opened{{actor: "api_key:a", c: ended}, {actor: "api_key:a", c: current}}
	ctx := context.Background()
	l.admitRefusal(ctx, "run:b") // forgets what ended, from the front
	if _, ok := l.admitRefusal(ctx, "api_key:a"); ok {
		t.Error("a's third refusal in its window was admitted: its current window was forgotten with the replaced one")
	}
}

// An actor whose window ended with refusals left out keeps that count while other actors are
// refused, so its next recorded refusal says how many were not recorded. On the first version
// of the bound, any other actor's refusal dropped the ended window and its count.
func TestRefusalLimitNoteSurvivesOtherActors(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 60, Window: time.Minute, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	for range 60 + 500 {
		l.admitRefusal(ctx, "api_key:leaked")
	}
	now = now.Add(61 * time.Second)
	l.admitRefusal(ctx, "run:someone-else")
	note, ok := l.admitRefusal(ctx, "api_key:leaked")
	if !ok || !strings.Contains(note, "500 further refusals of api_key:leaked") {
		t.Errorf("the key's next recorded refusal: note %q, admitted %v; want it admitted, saying 500 were not recorded", note, ok)
	}
}
