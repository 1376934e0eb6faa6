package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// rewrittenTrail is a trail on a store others may write (as Redis): 15 events dated t0, anchored
// by checkpoints at positions 5 and 11 (every 5 events, interval 1m), whose writer, who cannot
// sign, then rewrote event #8 (position 7), removed the checkpoint covering it (position 11) and
// relinked the rest. A replica that starts finds the checkpoint at 5 and the events after it.
type rewrittenTrail struct {
	t  *testing.T
	m  *audit.Memory
	s  *checkpointSigner
	t0 time.Time
}

const rewrittenIssuer = "https://broker.test"

// newRewrittenTrail makes the trail; redate, when set, gives each event after position 5 the
// date the writer gives it.
func newRewrittenTrail(t *testing.T, redate func(e *audit.Event)) *rewrittenTrail {
	t.Helper()
	tr := &rewrittenTrail{t: t, m: audit.NewMemory(), s: newCheckpointSigner(t), t0: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	a := tr.replica(&clock{now: tr.t0})
	n := 0
	for _, k := range []int{5, 5, 3} {
		for range k {
			n++
			e := audit.Event{ID: fmt.Sprintf("ev-%d", n), Time: tr.t0.Format(time.RFC3339Nano),
				Actor: "run:r", Action: "token.issue", Space: "prod", Outcome: audit.Success, Detail: "scope=read"}
			if _, err := a.Append(ctx, e, []string{"prod", "root"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	events := tr.list()
	if len(events) != 15 || events[5].Action != audit.CheckpointAction || events[11].Action != audit.CheckpointAction {
		t.Fatalf("setup: %d events", len(events))
	}
	if _, err := tr.verify(tr.t0.Add(time.Minute)); err != nil {
		t.Fatalf("intact trail: %v", err)
	}
	var forged []audit.Event
	for i, e := range events {
		if i == 11 {
			continue
		}
		if i == 7 {
			e.Detail = "scope=write"
		}
		if i > 5 && redate != nil {
			redate(&e)
		}
		forged = append(forged, e)
	}
	tr.replace(forged)
	return tr
}

// replica is a Checkpointer of the trail with clock c.
func (tr *rewrittenTrail) replica(c *clock) *audit.Checkpointer {
	tr.t.Helper()
	cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: sharedMemory{tr.m}, Sign: tr.s.sign, Issuer: rewrittenIssuer,
		Space: "root", Every: 5, Interval: time.Minute, Now: c.Now, Keys: tr.s.published})
	if err != nil {
		tr.t.Fatal(err)
	}
	return cp
}

// list is the whole trail, oldest first.
func (tr *rewrittenTrail) list() []audit.Event {
	tr.t.Helper()
	all, _, err := tr.m.List(context.Background(), "root", "", 1000)
	if err != nil {
		tr.t.Fatal(err)
	}
	return all
}

// replace puts events, relinked, in the store in place of the trail, as its writer may.
func (tr *rewrittenTrail) replace(events []audit.Event) {
	tr.t.Helper()
	relink(tr.t, events)
	audit.MemoryTamperer{M: tr.m}.Replace(tr.t, events)
}

// verify verifies the trail at at.
func (tr *rewrittenTrail) verify(at time.Time) (audit.Report, error) {
	return audit.VerifyAnchored(tr.list(), audit.AnchorConfig{Issuer: rewrittenIssuer, Keys: tr.s.published(), Now: at})
}

// lateAnchors are the trail's late-anchor events and their positions.
func (tr *rewrittenTrail) lateAnchors() (events []audit.Event, at []int) {
	for i, e := range tr.list() {
		if e.Action == audit.LateAnchorAction {
			events, at = append(events, e), append(at, i)
		}
	}
	return events, at
}
