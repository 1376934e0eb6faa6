package audit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestRestartedReplicaRecordsALateAnchor: a replica that starts holds the events after the latest
// checkpoint in the store to the schedule a verifier holds them to, and when they break it
// records so, in an audit.late_anchor event naming their positions, before it anchors them. A
// store writer who cannot sign rewrote an anchored event (#8), removed the checkpoint covering
// it (position 11), kept the earlier one (position 5) and relinked: the verifier rejects that
// trail (ErrUnanchored); after a restart it verifies, but the trail says, anchored with the
// rest, which events were anchored late.
// Guards against: guard.go:startTrust trusting the latest checkpoint in the store without the
// schedule check, so a restarted replica signed a checkpoint over the rewritten chain silently.
func TestRestartedReplicaRecordsALateAnchor(t *testing.T) {
	ctx := context.Background()
	tr := newRewrittenTrail(t, nil)
	later := tr.t0.Add(2 * time.Hour)
	if _, err := tr.verify(later); !errors.Is(err, audit.ErrUnanchored) {
		t.Fatalf("before any restart the verifier should reject the rewrite: %v", err)
	}

	// A replica starts (restart, deploy, scale-up) two hours later.
	bc := &clock{now: later}
	b := tr.replica(bc)
	if _, err := b.Check(ctx); err != nil {
		t.Fatalf("restarted replica over the rewritten trail: %v", err)
	}
	bc.Advance(time.Minute)
	if _, err := b.Check(ctx); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
	late, _ := tr.lateAnchors()
	if len(late) != 1 || late[0].Actor != audit.CheckpointActor || !strings.Contains(late[0].Detail, "positions 5 to") {
		t.Errorf("the restarted replica anchored the rewritten trail; its late-anchor events %+v, want one naming the positions from 5 (from 0)", late)
	}
	if r, verr := tr.verify(bc.now.Add(time.Second)); verr != nil || r.Unanchored != 0 || r.LateAnchors != 1 {
		t.Errorf("after the restart the trail, late-anchor event included, should verify anchored and report it: %v (unanchored %d, late anchors %d)", verr, r.Unanchored, r.LateAnchors)
	}
}

// TestReplicaStartKeepsToTheVerifiersSchedule: a replica that starts signs over the chain it
// finds exactly when a verifier listing it then accepts the events after the latest checkpoint:
// a quiet chain days later, events within the schedule, an empty chain and one that never had a
// checkpoint are signed as before; events older than the schedule allows after the latest
// checkpoint (removed checkpoints, or a replica that stopped before signing and none started
// in time), which the verifier rejects, are signed after an audit.late_anchor event says so.
// Guards against: guard.go:startTrust trusting the latest checkpoint in the store without the
// schedule check, so a restarted replica signed a checkpoint over the rewritten chain.
func TestReplicaStartKeepsToTheVerifiersSchedule(t *testing.T) {
	const iss = "https://broker.test"
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		// checkpointed and after are the events before the first replica's checkpoint (none
		// when 0) and after it, all dated t0; start is when the second replica starts.
		checkpointed, after int
		start               time.Duration
		// late: the verifier rejects the trail at the start (ErrUnanchored), and the second
		// replica records a late anchor before it signs; otherwise it records none.
		late bool
	}{
		{name: "quiet chain days later", checkpointed: 5, start: 72 * time.Hour},
		{name: "events within the schedule", checkpointed: 5, after: 3, start: 90 * time.Second},
		{name: "events left days ago", checkpointed: 5, after: 3, start: 72 * time.Hour, late: true},
		{name: "empty chain", start: 72 * time.Hour},
		{name: "chain without a checkpoint", after: 3, start: 72 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := audit.NewMemory()
			s := newCheckpointSigner(t)
			mk := func(c *clock) *audit.Checkpointer {
				cp, err := audit.NewCheckpointer(audit.CheckpointConfig{Store: sharedMemory{m}, Sign: s.sign, Issuer: iss, Space: "root",
					Every: 5, Interval: time.Minute, Now: c.Now, Keys: s.published})
				if err != nil {
					t.Fatal(err)
				}
				return cp
			}
			add := func(cp *audit.Checkpointer, n int) {
				for i := 0; i < n; i++ {
					e := audit.Event{ID: fmt.Sprintf("ev-%d", i), Time: t0.Format(time.RFC3339Nano), Actor: "run:r",
						Action: "token.issue", Space: "prod", Outcome: audit.Success, Detail: "scope=read"}
					if _, err := cp.Append(ctx, e, []string{"prod", "root"}); err != nil {
						t.Fatal(err)
					}
				}
			}
			a := mk(&clock{now: t0})
			if tc.checkpointed > 0 {
				add(a, tc.checkpointed)
				if wrote, err := a.Check(ctx); !wrote || err != nil {
					t.Fatalf("first checkpoint: %v, %v", wrote, err)
				}
			}
			add(a, tc.after)
			verify := func(at time.Time) error {
				events, _, err := m.List(ctx, "root", "", 1000)
				if err != nil {
					t.Fatal(err)
				}
				_, err = audit.VerifyAnchored(events, audit.AnchorConfig{Issuer: iss, Keys: s.published(), Now: at, Every: 5, Interval: time.Minute})
				return err
			}
			clk := &clock{now: t0.Add(tc.start)}
			if verr := verify(clk.now); tc.late && !errors.Is(verr, audit.ErrUnanchored) {
				t.Errorf("verify before the start: %v; want ErrUnanchored", verr)
			}
			b := mk(clk)
			_, err := b.Check(ctx)
			events, _, lerr := m.List(ctx, "root", "", 1000)
			if lerr != nil {
				t.Fatal(lerr)
			}
			late := 0
			for _, e := range events {
				if e.Action == audit.LateAnchorAction {
					late++
				}
			}
			if want := map[bool]int{true: 1}[tc.late]; late != want {
				t.Errorf("late-anchor events after the start: %d, want %d", late, want)
			}
			if err != nil {
				t.Fatalf("start: %v; want no refusal", err)
			}
			clk.Advance(time.Minute) // a chain that never had a checkpoint is anchored interval after the start
			if _, err := b.Check(ctx); err != nil {
				t.Fatalf("a minute after the start: %v", err)
			}
			if verr := verify(clk.now.Add(time.Second)); verr != nil {
				t.Errorf("verify after the start: %v", verr)
			}
		})
	}
}
