package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestVerifyListedMemoryDoesNotGrowWithTheTrail: VerifyListed's memory does not grow with the
// trail, even when a store writer moves one genuine checkpoint (signed over the first 5 events)
// to the end of a long trail and relinks: it keeps at most maxKept of the events between the
// checkpoint's count and its position for a second listing, and reports the trail unanchored
// beyond that, instead of being killed for memory on a large trail.
// Guards against: stream.go:verifyListed keeping every event a checkpoint names behind it
// across listings (about 170 bytes an event).
func TestVerifyListedMemoryDoesNotGrowWithTheTrail(t *testing.T) {
	const n = 400_000
	const iss = "https://broker.test"
	s := newCheckpointSigner(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	gen := func(i int) audit.Event {
		return audit.Event{ID: fmt.Sprintf("01JEVENT%018d", i), Time: at, Actor: "run:r", Action: "token.issue",
			Space: "prod", Outcome: audit.Success, Detail: "scope=read"}
	}
	// The genuine checkpoint over the first five events.
	prev := ""
	for i := 0; i < 5; i++ {
		e := gen(i)
		e.Prev = prev
		prev, _ = audit.Hash(e)
	}
	payload, _ := json.Marshal(audit.Checkpoint{Issuer: iss, Count: 5, Tail: prev, Time: at, Every: 1000, Interval: 60})
	jws, err := s.sign(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	listings := 0
	list := func(add func([]audit.Event)) error {
		listings++
		prev := ""
		page := make([]audit.Event, 0, 1000)
		for i := 0; i <= n; i++ {
			e := gen(i)
			if i == n { // the checkpoint, moved to the end
				e = audit.Event{ID: "01JCHECKPOINTMOVEDTOTHEEND", Time: at, Actor: audit.CheckpointActor,
					Action: audit.CheckpointAction, Space: "root", Outcome: audit.Success, Detail: jws}
			}
			e.Prev = prev
			prev, _ = audit.Hash(e)
			page = append(page, e)
			if len(page) == cap(page) || i == n {
				add(page)
				page = make([]audit.Event, 0, 1000)
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		return nil
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	_, verr := audit.VerifyListed(list, audit.AnchorConfig{Issuer: iss, Keys: s.published(), Now: time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC)})
	if !errors.Is(verr, audit.ErrUnanchored) {
		t.Errorf("a checkpoint moved %d events past what it signs: %v; want ErrUnanchored", n, verr)
	}
	grown := int64(peak) - int64(base.HeapAlloc)
	if grown > 32<<20 {
		t.Errorf("verifying a trail of %d events held %d MiB live at the end of a listing (%d listings, result %v): memory grows with the trail",
			n, grown>>20, listings, verr)
	}
}
