package server

import (
	"context"
	"fmt"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// landedPage is how many events of the chain one read of a landed check covers.
const landedPage = 256

// keyEvent is a key-set event waiting for the trail, with the set in force once it is there.
type keyEvent struct {
	// event is the event as made; each send dates it (see sendKeyEvent) and keeps its ID.
	event audit.Event
	// at is when the change happened.
	at      time.Time
	inForce keys.SetMeta
	// sent: an append of event was tried. An append that failed may still land (a client
	// timeout while the store stalls, a failover), so a sent event is looked for before it is
	// sent again.
	sent bool
	// from is the chain's length read just before the first send: an append lands at or past it.
	from int64
}

// recordKeyEvent appends a key-set event after those still waiting, oldest first, and saves the
// set in force as the one the trail last recorded only once nothing waits: the record never
// moves past a change the trail does not hold. An event that cannot be appended waits, with
// those after it, for the next key-set event or retryKeyEvents; what still waits when the
// replica stops is recorded by the next start, which compares with the record. The change
// happened now; ev.Time is set by each send.
func (a *auditRecorder) recordKeyEvent(ctx context.Context, ev audit.Event, inForce keys.SetMeta) {
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	a.keyWaiting = append(a.keyWaiting, keyEvent{event: ev, at: a.now(), inForce: inForce})
	a.flushKeyEvents(ctx)
}

// retryKeyEvents appends the key-set events still waiting, every interval until ctx ends.
func (a *auditRecorder) retryKeyEvents(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.keyMu.Lock()
			if len(a.keyWaiting) > 0 {
				a.flushKeyEvents(ctx)
			}
			a.keyMu.Unlock()
		}
	}
}

// flushKeyEvents appends the waiting events in order, stopping at the first that fails, and
// saves the record once all are in. An event sent before is appended again only once the chain
// past its first send's start is known not to hold its ID, so a failed append that landed
// after all is in the trail once. Callers hold keyMu.
func (a *auditRecorder) flushKeyEvents(ctx context.Context) {
	for len(a.keyWaiting) > 0 {
		w := &a.keyWaiting[0]
		landed, err := a.keyEventLanded(ctx, w)
		if err != nil {
			a.logError("audit: could not check whether a key-set change was recorded; it is checked again",
				"action", w.event.Action, "id", w.event.ID, "generation", w.inForce.Generation, "waiting", len(a.keyWaiting), "err", err)
			return
		}
		if !landed {
			if err := a.sendKeyEvent(ctx, w); err != nil {
				a.logError("audit: could not record a key-set change; it is tried again",
					"action", w.event.Action, "id", w.event.ID, "generation", w.inForce.Generation, "waiting", len(a.keyWaiting), "err", err)
				return
			}
		}
		inForce := w.inForce
		a.keyWaiting = a.keyWaiting[1:]
		if len(a.keyWaiting) == 0 {
			a.saveKeySet(ctx, inForce)
		}
	}
}

// sendKeyEvent appends w's event, dated now: an event enters the trail with the time it is
// appended at, so one appended late (after a checkpoint) is not older than the checkpoints
// that must follow it. When that time is more than a second from when the change happened,
// the event's Detail names the change's time too. Before the first send, when a.chain can look
// for the event later, it reads the chain's length; if that read fails the event is not sent.
func (a *auditRecorder) sendKeyEvent(ctx context.Context, w *keyEvent) error {
	if !w.sent && a.chain != nil {
		head, err := a.store.Head(ctx)
		if err != nil {
			return fmt.Errorf("reading the chain's length before the append: %w", err)
		}
		w.from = head.Count
	}
	ev := w.event
	now := a.now().UTC()
	ev.Time = now.Format(time.RFC3339Nano)
	if d := now.Sub(w.at); d > time.Second || d < -time.Second {
		ev.Detail += "; changed at " + w.at.UTC().Format(time.RFC3339)
	}
	w.sent = true
	_, err := a.store.Append(ctx, ev, []string{config.RootSpace})
	return err
}

// keyEventLanded reports whether the chain holds w's event: false when it was never sent or
// a.chain is nil (a store whose failed appends never land); otherwise it reads the chain from
// w.from to its end, a page at a time, for the event's ID.
func (a *auditRecorder) keyEventLanded(ctx context.Context, w *keyEvent) (bool, error) {
	if !w.sent || a.chain == nil {
		return false, nil
	}
	for pos := w.from; ; {
		events, first, err := a.chain.Range(ctx, pos, landedPage)
		if err != nil {
			return false, fmt.Errorf("reading the chain from position %d: %w", pos, err)
		}
		if len(events) == 0 {
			return false, nil
		}
		for _, e := range events {
			if e.ID == w.event.ID {
				return true, nil
			}
		}
		pos = first + int64(len(events))
	}
}
