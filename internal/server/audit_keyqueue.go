package server

import (
	"context"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// keyEvent is a key-set event waiting for the trail, with the set in force once it is there.
type keyEvent struct {
	event   audit.Event
	inForce keys.SetMeta
}

// recordKeyEvent appends a key-set event after those still waiting, oldest first, and saves the
// set in force as the one the trail last recorded only once nothing waits: the record never
// moves past a change the trail does not hold. An event that cannot be appended waits, with
// those after it, for the next key-set event or retryKeyEvents; what still waits when the
// replica stops is recorded by the next start, which compares with the record.
func (a *auditRecorder) recordKeyEvent(ctx context.Context, ev audit.Event, inForce keys.SetMeta) {
	a.keyMu.Lock()
	defer a.keyMu.Unlock()
	a.keyWaiting = append(a.keyWaiting, keyEvent{event: ev, inForce: inForce})
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
// saves the record once all are in. Callers hold keyMu.
func (a *auditRecorder) flushKeyEvents(ctx context.Context) {
	for len(a.keyWaiting) > 0 {
		w := a.keyWaiting[0]
		if _, err := a.store.Append(ctx, w.event, []string{config.RootSpace}); err != nil {
			a.logError("audit: could not record a key-set change; it is tried again",
				"action", w.event.Action, "generation", w.inForce.Generation, "waiting", len(a.keyWaiting), "err", err)
			return
		}
		a.keyWaiting = a.keyWaiting[1:]
		if len(a.keyWaiting) == 0 {
			a.saveKeySet(ctx, w.inForce)
		}
	}
}
