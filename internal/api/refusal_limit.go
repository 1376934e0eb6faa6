package api

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// RefusalLimit is a Recorder that records at most PerActor refusals of one authenticated actor
// (an API key, a run) per Window; further refusals of that actor in the window are answered as
// usual but not recorded, and the actor's next recorded refusal says how many were not. A key
// that may do nothing in a space can otherwise fill that space's trail with refusals: push its
// real events out of the memory store's retained window, and grow Redis and every sink without
// bound. Refusals of unauthenticated requests are not limited here: the failed-auth guard bounds
// them per address. Every other event passes through to Recorder.
type RefusalLimit struct {
	Recorder
	// PerActor refusals of one actor are recorded per Window.
	PerActor int
	Window   time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger is told when an actor's refusals stop being recorded; slog.Default() when nil.
	Logger *slog.Logger

	mu     sync.Mutex
	actors map[string]*refusals
}

// refusals counts one actor's refusals in its current window.
type refusals struct {
	start         time.Time
	recorded, not int
}

// maxActors bounds the actors RefusalLimit tracks; past it, those whose window ended are forgotten.
const maxActors = 10_000

// refusalAdmitter is what recordRefusal asks before recording a refusal.
type refusalAdmitter interface {
	admitRefusal(ctx context.Context, actor string) (note string, ok bool)
}

// admitRefusal reports whether a refusal of actor is to be recorded, and a note for its detail
// when earlier ones were not. ctx is the refused request's, for its log line.
func (l *RefusalLimit) admitRefusal(ctx context.Context, actor string) (string, bool) {
	if actor == unknownActor || actor == "" {
		return "", true
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.actors == nil {
		l.actors = map[string]*refusals{}
	}
	c := l.actors[actor]
	note := ""
	if c == nil || now.Sub(c.start) >= l.Window {
		if c != nil && c.not > 0 {
			note = fmt.Sprintf(" (%d further refusals of %s in the %s before were not recorded)", c.not, actor, l.Window)
		}
		if c == nil && len(l.actors) >= maxActors {
			l.forget(now)
		}
		c = &refusals{start: now}
		l.actors[actor] = c
	}
	if c.recorded >= l.PerActor {
		if c.not++; c.not == 1 {
			l.logger().WarnContext(ctx, "audit: refusals of this actor are no longer recorded until the window ends",
				"actor", actor, "recorded", c.recorded, "window", l.Window)
		}
		return "", false
	}
	c.recorded++
	return note, true
}

// forget drops the actors whose window ended at now. The caller holds mu.
func (l *RefusalLimit) forget(now time.Time) {
	for a, c := range l.actors {
		if now.Sub(c.start) >= l.Window {
			delete(l.actors, a)
		}
	}
}

func (l *RefusalLimit) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}
