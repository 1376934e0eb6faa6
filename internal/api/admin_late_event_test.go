package api

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// lateRecorder is a trail whose first append of a change fails the way a Redis trail's
// append fails when Redis stalls (audit.ErrUnavailable) and then lands all the same once Redis
// is back: the event is kept although Record answered an error. Later appends succeed.
type lateRecorder struct {
	mu     sync.Mutex
	failed bool
	events []Event
}

func (p *lateRecorder) Record(_ context.Context, e Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e) // it lands, whatever the answer
	if !p.failed {
		p.failed = true
		return fmt.Errorf("%w: audit append timed out", audit.ErrUnavailable)
	}
	return nil
}

// outcomesOf lists the outcomes of the events of action, in the order they were recorded.
func (p *lateRecorder) outcomesOf(action string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.events {
		switch {
		case e.Action != action:
		case e.Outcome == "":
			out = append(out, audit.Success)
		default:
			out = append(out, e.Outcome)
		}
	}
	return out
}

// TestAdminChangeRefusedAfterLateEventIsCorrected checks that the trail never shows as done an
// administration change the caller was refused: one whose audit append failed in a way that
// may still land it (audit.MayLandLater) is refused (503), not applied, and its event is
// followed by a correction with outcome "error", as for tokens, runs and phase changes.
func TestAdminChangeRefusedAfterLateEventIsCorrected(t *testing.T) {
	rec := &lateRecorder{}
	e := newAdminEnv(t, adminTestFile(), rec)
	w := e.put("boss", "/v1/stacks/app", `{"space":"team-a"}`)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("PUT while the append stalls: %d %s, want 503", w.Code, w.Body)
	}
	if _, ok := e.m.Live().Load().Stack("app"); ok {
		t.Fatal("the stack was created although its event was not confirmed")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := rec.outcomesOf("stack.put")
		if len(got) >= 2 && got[len(got)-1] == audit.Failed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stack.put events %v: the success event that landed late stands alone; "+
				"the refused change is shown as done", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
