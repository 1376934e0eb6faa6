package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/runs"
)

// chanRecorder hands every event it records to got.
type chanRecorder struct{ got chan Event }

func (p chanRecorder) Record(_ context.Context, e Event) error {
	p.got <- e
	return nil
}

// The correction that follows an event which may land later carries no Version: it must land
// whatever the run became since, or the event it corrects could stand alone in the trail.
// Guards against: notRecorded keeping the corrected event's Version on the correction.
func TestCorrectionCarriesNoVersion(t *testing.T) {
	rec := chanRecorder{got: make(chan Event, 1)}
	e := Event{Actor: "run:r1", Action: "token.issue", Detail: "aud=a jti=j",
		Version: runs.Version{ID: "r1", Digest: "d1"}}
	notRecorded(context.Background(), rec, slog.New(slog.DiscardHandler), e,
		fmt.Errorf("append: %w", audit.ErrUnavailable))
	select {
	case c := <-rec.got:
		if !c.Version.IsZero() || c.Outcome != audit.Failed {
			t.Errorf("correction %+v, want outcome %q and no Version", c, audit.Failed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no correction recorded")
	}
}

// When a refusal limit left some of an actor's refusals out of the trail, the next refusal it
// records says so in its detail, so the trail shows that refusals were left out.
// Guards against: recordRefusal dropping the limit's note from the recorded detail.
func TestRefusalAfterLeftOutOnesNamesThem(t *testing.T) {
	kept := &keptEvents{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	limit := &RefusalLimit{Recorder: kept, PerActor: 1, Window: time.Minute,
		Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	log := slog.New(slog.DiscardHandler)
	refusal := Event{Actor: "run:r1", Action: "credentials.issue", Outcome: "denied",
		Detail: "refused"}
	for range 3 { // one recorded, two left out
		recordRefusal(context.Background(), limit, log, refusal)
	}
	now = now.Add(time.Minute)
	recordRefusal(context.Background(), limit, log, refusal)
	kept.mu.Lock()
	defer kept.mu.Unlock()
	if len(kept.events) != 2 {
		t.Fatalf("%d refusals recorded, want 2", len(kept.events))
	}
	d := kept.events[1].Detail
	if !strings.HasPrefix(d, "refused") || !strings.Contains(d, "2 further refusals") {
		t.Errorf("detail of the refusal after two were left out: %q, want it to name them", d)
	}
}

// An attachment resolution refused because the run record is inconsistent (runs.ErrCorrupt,
// from exchange.Resolve's scope check) is answered as the inconsistent-record 403 that issues
// nothing, never passed on raw (which fail answers as a 500).
// Guards against: resolveError dropping its runs.ErrCorrupt case.
func TestResolveErrorCorruptRunIs403(t *testing.T) {
	err := resolveError(fmt.Errorf("%w: run r1 has scope write in PLANNING", runs.ErrCorrupt))
	if !errors.Is(err, errCorruptRun) {
		t.Errorf("resolveError(ErrCorrupt) = %v, want errCorruptRun", err)
	}
}
