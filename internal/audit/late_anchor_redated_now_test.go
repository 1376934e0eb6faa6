package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestLateAnchorNotAvoidedByDatingTheRewriteAtRestart: the store writer of
// TestRestartedReplicaRecordsALateAnchor dates the events after the checkpoint it kept to the
// starting replica's own time, so that they are neither old nor ahead: they follow the kept
// checkpoint by far more than the schedule lets an event go unsigned, so the starting replica
// records a late anchor for them all the same.
// Guards against: guard.go:onSchedule comparing the events' dates with now only, not with the
// time the checkpoint before them signs
func TestLateAnchorNotAvoidedByDatingTheRewriteAtRestart(t *testing.T) {
	ctx := context.Background()
	const iss = "https://broker.test"
	m := audit.NewMemory()
	store := sharedMemory{m}
	s := newCheckpointSigner(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	mk := func(c *clock) *audit.Checkpointer {
		cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: store, Sign: s.sign, Issuer: iss, Space: "root",
			Every: 5, Interval: time.Minute, Now: c.Now, Keys: s.published})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	a := mk(clk)
	n := 0
	add := func(k int) {
		for i := 0; i < k; i++ {
			n++
			e := audit.Event{ID: fmt.Sprintf("ev-%d", n), Time: clk.now.Format(time.RFC3339Nano),
				Actor: "run:r", Action: "token.issue", Space: "prod", Outcome: audit.Success, Detail: "scope=read"}
			if _, err := a.Append(ctx, e, []string{"prod", "root"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range []int{5, 5, 3} {
		add(k)
		if _, err := a.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	list := func() []audit.Event {
		all, _, err := m.List(ctx, "root", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return all
	}
	events := list()
	if len(events) != 15 || events[5].Action != audit.CheckpointAction || events[11].Action != audit.CheckpointAction {
		t.Fatalf("setup: %d events", len(events))
	}
	later := t0.Add(2 * time.Hour)
	var forged []audit.Event
	for i, e := range events {
		if i == 11 {
			continue
		}
		if i == 7 {
			e.Detail = "scope=write"
		}
		if i > 5 {
			e.Time = later.Add(-10 * time.Second).Format(time.RFC3339Nano) // dated at the restart, not ahead
		}
		forged = append(forged, e)
	}
	relink(t, forged)
	audit.MemoryTamperer{M: m}.Replace(t, forged)

	b := mk(&clock{now: later})
	if wrote, err := b.Check(ctx); !wrote || err != nil {
		t.Fatalf("start: %v %v", wrote, err)
	}
	late := 0
	for _, e := range list() {
		if e.Action == audit.LateAnchorAction {
			late++
		}
	}
	r, err := audit.VerifyAnchored(list(), audit.AnchorConfig{Issuer: iss, Keys: s.published(), Now: later.Add(time.Second)})
	if late == 0 && err == nil && r.LateAnchors == 0 {
		t.Fatalf("the rewrite (#8, checkpoint at 11 removed, events after the kept checkpoint dated to the restart time) was anchored by the starting replica with no late-anchor event, and verify accepts it without warning (err=%v, unanchored=%d, events=%d)", err, r.Unanchored, r.Events)
	}
}
