package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestLateAnchorNotAvoidedByDatingTheRewriteAhead: the store writer of
// TestRestartedReplicaRecordsALateAnchor also dates the events after the checkpoint it kept
// ahead of every replica's clock, so that they pass the schedule: a starting replica takes an
// event dated more than the clock skew it allows ahead of its clock as one it cannot tell the
// age of, and records a late anchor for them.
// Guards against: guard.go:onSchedule judging events dated ahead as recent
func TestLateAnchorNotAvoidedByDatingTheRewriteAhead(t *testing.T) {
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
			e.Time = later.Add(30 * time.Minute).Format(time.RFC3339Nano) // ahead, within the allowance
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
		t.Fatalf("the rewrite (#8, checkpoint at 11 removed, events after the kept checkpoint dated ahead) was anchored by the starting replica with no late-anchor event, and verify accepts it without warning (err=%v, unanchored=%d, events=%d)", err, r.Unanchored, r.Events)
	}
}
