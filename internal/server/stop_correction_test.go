package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// lateConfirmStore is an audit store whose first run.create event lands but is answered as not
// confirmed in time, and whose next appends (the correction of that event) fail until the
// store came back, after refusals of them.
type lateConfirmStore struct {
	audit.Store
	mu       sync.Mutex
	landed   bool
	refusals int
}

func (p *lateConfirmStore) Append(ctx context.Context, e audit.Event,
	spaces []string) (audit.Event, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Action == "run.create" && !p.landed {
		p.landed = true
		_, _ = p.Store.Append(ctx, e, spaces)
		return audit.Event{}, fmt.Errorf("append: %w", context.DeadlineExceeded)
	}
	if p.landed && p.refusals > 0 {
		p.refusals--
		return audit.Event{}, fmt.Errorf("append: %w", audit.ErrUnavailable)
	}
	return p.Store.Append(ctx, e, spaces)
}

// TestStopWaitsForCorrections: an event that may have landed though its request was
// refused is followed in the trail by a correction saying it was not done, retried in the
// background while the store does not take it. A graceful stop must let that correction be
// recorded (within the sinks' flush deadline) before the sinks' last flush: otherwise the
// process exits with the correction unrecorded, and the trail shows as done what the caller
// was refused (with the memory store the sinks never get it either).
func TestStopWaitsForCorrections(t *testing.T) {
	sink := &stopSlowSink{got: map[string]bool{}, delay: 10 * time.Millisecond}
	recv := httptest.NewServer(sink)
	defer recv.Close()
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(
		"\nhttp: {shutdown_timeout: 5s}\naudit:\n  sinks:\n"+
			"    - name: siem\n      webhook: {url: %q}\n", recv.URL)})
	waitFor(t, "the sink to catch up", func() bool { return len(stopMissed(t, ts, sink)) == 0 })
	// The store takes the correction at its fifth try, about 1.5s after the refusal.
	ts.srv.events.store = &lateConfirmStore{Store: ts.srv.events.store, refusals: 4}
	code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: adminSecret,
		body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}})
	if code != http.StatusServiceUnavailable {
		t.Fatalf("run creation whose event was not confirmed: %d, want 503", code)
	}
	ts.stop()
	corrected := func() bool {
		for _, e := range ts.chain(t) {
			if e.Action == "run.create" && e.Outcome == audit.Failed {
				return true
			}
		}
		return false
	}
	if !corrected() {
		t.Error("Serve returned before the correction of a refused run.create was recorded: " +
			"the process exits and the trail shows the run created")
	}
	time.Sleep(2 * time.Second)
	for _, e := range stopMissed(t, ts, sink) {
		t.Errorf("event %s (%s, %s) recorded after the sinks' final flush", e.ID, e.Action, e.Outcome)
	}
}
