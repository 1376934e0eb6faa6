package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/redisstore"
)

// TestNonCanonicalEventFailsAlone: an event with no canonical form (a field not valid
// UTF-8) fails at once, without waiting for a round trip, and does not join the next batch, so
// the events queued beside it still land.
// Guards against: append skipping audit.CheckCanonical (the event queues and fails its whole
// batch).
func TestNonCanonicalEventFailsAlone(t *testing.T) {
	ctx := context.Background()
	c, store, trail, run, token := tokenPath(t)
	if _, err := trail.Append(ctx, tokenEvent("warm", run), []string{run.Space}); err != nil {
		t.Fatal(err) // loads the script
	}
	release := holdRoundTrip(t, c, store, token)
	good := make(chan error, 1)
	go func() {
		_, err := trail.Append(ctx, tokenEvent("good", run), []string{run.Space})
		good <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for redisstore.QueuedEvents(trail) < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the good event never queued")
		}
		time.Sleep(time.Millisecond)
	}
	bad := tokenEvent("bad", run)
	bad.Detail = "not utf-8: \xff"
	bctx, cancel := context.WithTimeout(ctx, time.Second) // bounds only a wrong wait
	_, berr := trail.Append(bctx, bad, []string{run.Space})
	cancel()
	release()
	if berr == nil || errors.Is(berr, context.DeadlineExceeded) {
		t.Errorf("Append of a non-canonical event = %v, want its encoding error at once", berr)
	}
	if err := <-good; err != nil {
		t.Errorf("Append of the event queued beside it = %v, want nil", err)
	}
	events, _, err := trail.List(ctx, run.Space, "", 10)
	if err != nil || len(events) != 2 || events[1].ID != "good" {
		t.Fatalf("List = %v, %v; want warm, good", events, err)
	}
	if err := audit.Verify(events); err != nil {
		t.Errorf("chain: %v", err)
	}
}
