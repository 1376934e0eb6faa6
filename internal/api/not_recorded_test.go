package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// keptEvents is a Recorder that keeps every event it is given.
type keptEvents struct {
	mu     sync.Mutex
	events []Event
}

func (k *keptEvents) Record(_ context.Context, e Event) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.events = append(k.events, e)
	return nil
}

func (k *keptEvents) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.events)
}

// TestNotRecordedCorrectsWhatMayLandLater: an event whose append failed in a way that may
// still land it (the store did not answer in time, or the request's client left while its
// append waited behind another request's round trip) is followed by a correction saying it
// was not done; one refused outright is not.
func TestNotRecordedCorrectsWhatMayLandLater(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		correct bool
	}{
		{"store unavailable", fmt.Errorf("append: %w", audit.ErrUnavailable), true},
		{"store timeout", fmt.Errorf("append: %w", context.DeadlineExceeded), true},
		{"client left while the append waited", fmt.Errorf("append: %w", context.Canceled), true},
		{"refused outright", errors.New("event too large"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &keptEvents{}
			e := Event{Actor: "api_key:k", Action: "run.phase", Outcome: audit.Success, Detail: "PLANNING -> APPLYING"}
			if err := notRecorded(context.Background(), rec, slog.New(slog.DiscardHandler), e, tc.err); !errors.Is(err, errUnrecorded) {
				t.Fatalf("notRecorded: %v, want errUnrecorded", err)
			}
			want := 0
			if tc.correct {
				want = 1
			}
			deadline := time.Now().Add(5 * time.Second)
			for rec.count() < want && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !tc.correct {
				time.Sleep(100 * time.Millisecond) // a correction, were one wrongly sent, is sent at once
			}
			if got := rec.count(); got != want {
				t.Fatalf("%d corrections recorded, want %d", got, want)
			}
			if want == 1 {
				c := rec.events[0]
				if c.Outcome != audit.Failed || c.Action != e.Action {
					t.Errorf("correction %+v, want outcome %q for %q", c, audit.Failed, e.Action)
				}
			}
		})
	}
}
