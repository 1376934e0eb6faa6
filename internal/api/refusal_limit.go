package api

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
	// order holds the windows opened, oldest first: a window that ended, or that its actor
	// replaced, is dropped from the front as new ones open, so each refusal costs O(1).
	order []opened
	// unsaid holds, by actor, how many refusals an ended window left out, for the actor's next
	// recorded refusal to say; at most maxActors are kept, the oldest given up first.
	unsaid map[string]unsaidCount
	// unsaidOrder lists the entries of unsaid, oldest first; one said since (its actor gone
	// from unsaid, or kept again under a later seq) is skipped.
	unsaidOrder []unsaidEntry
	unsaidSeq   uint64
}

// unsaidCount is how many refusals of an actor are to be said, kept as entry seq.
type unsaidCount struct {
	n   int
	seq uint64
}

// unsaidEntry is an actor's place in unsaidOrder.
type unsaidEntry struct {
	actor string
	seq   uint64
}

// opened is one actor's window, as entered in order.
type opened struct {
	actor string
	c     *refusals
}

// refusals counts one actor's refusals in its current window.
type refusals struct {
	start         time.Time
	recorded, not int
}

// maxActors bounds the actors RefusalLimit tracks. Past it the oldest window is forgotten even
// though it has not ended: its actor's refusals are counted afresh, which records a few more of
// them rather than let the tracking grow without bound.
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
		not := l.unsaid[actor].n
		delete(l.unsaid, actor)
		if c != nil {
			not += c.not
		}
		if not > 0 {
			note = fmt.Sprintf(" (%d further refusals of %s in the %s before were not recorded)", not, actor, l.Window)
		}
		if c != nil {
			c.not = 0 // said now: forget need not keep it
		}
		l.forget(now)
		c = &refusals{start: now}
		l.actors[actor] = c
		l.order = append(l.order, opened{actor: actor, c: c})
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

// forget drops, from the front of order, the windows that ended at now or that their actor
// replaced, and the oldest ones while maxActors are tracked. An ended window that left refusals
// out leaves their count in unsaid, for its actor's next recorded refusal to say (while unsaid
// holds fewer than maxActors). The caller holds mu.
func (l *RefusalLimit) forget(now time.Time) {
	for len(l.order) > 0 {
		o := l.order[0]
		switch cur := l.actors[o.actor]; {
		case cur != o.c: // replaced by a later window, or already forgotten
		case len(l.actors) >= maxActors || now.Sub(o.c.start) >= l.Window:
			if o.c.not > 0 {
				l.keepUnsaid(o.actor, o.c.not)
			}
			delete(l.actors, o.actor)
		default:
			return
		}
		l.order[0] = opened{}
		l.order = l.order[1:]
		if len(l.order) == 0 {
			l.order = nil // let the emptied array go
		}
	}
}

// keepUnsaid adds n to the refusals actor's next recorded refusal is to say, giving up the oldest
// actor's when maxActors are kept. The caller holds mu.
func (l *RefusalLimit) keepUnsaid(actor string, n int) {
	if l.unsaid == nil {
		l.unsaid = map[string]unsaidCount{}
	}
	c, kept := l.unsaid[actor]
	if !kept {
		for len(l.unsaid) >= maxActors && len(l.unsaidOrder) > 0 {
			front := l.unsaidOrder[0]
			l.unsaidOrder = l.unsaidOrder[1:]
			if cur, ok := l.unsaid[front.actor]; ok && cur.seq == front.seq {
				delete(l.unsaid, front.actor)
			}
		}
		l.unsaidSeq++
		c.seq = l.unsaidSeq
		l.unsaidOrder = append(l.unsaidOrder, unsaidEntry{actor: actor, seq: c.seq})
	}
	c.n += n
	l.unsaid[actor] = c
	if len(l.unsaidOrder) > 2*maxActors {
		// Entries said since are listed still: keep only the current ones, in order.
		l.unsaidOrder = slices.DeleteFunc(l.unsaidOrder, func(e unsaidEntry) bool {
			cur, ok := l.unsaid[e.actor]
			return !ok || cur.seq != e.seq
		})
	}
}

func (l *RefusalLimit) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}
