package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestLateAnchorNotAvoidedByRedatingTheRewrite: the writer of a rewrittenTrail also dates the
// events after the checkpoint it kept so that they pass the schedule by their age: ahead of
// every replica's clock, or at the starting replica's own time. A starting replica takes an event
// dated more than the clock skew it allows ahead of its clock as one it cannot tell the age of,
// and one dated later after the checkpoint before it than a checkpoint may wait as left
// unsigned: it records one late anchor either way, which verify reports.
// Guards against: guard.go:onSchedule judging events dated ahead as recent, or comparing the
// events' dates with now only, not with the time the checkpoint before them signs
func TestLateAnchorNotAvoidedByRedatingTheRewrite(t *testing.T) {
	start := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC) // two hours after the trail
	for _, tc := range []struct {
		name string
		date time.Time
	}{
		{"ahead, within verify's allowance", start.Add(30 * time.Minute)},
		{"at the restart", start.Add(-10 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newRewrittenTrail(t, func(e *audit.Event) { e.Time = tc.date.Format(time.RFC3339Nano) })
			b := tr.replica(&clock{now: start})
			if wrote, err := b.Check(context.Background()); !wrote || err != nil {
				t.Fatalf("start: %v %v", wrote, err)
			}
			late, _ := tr.lateAnchors()
			r, err := tr.verify(start.Add(time.Second))
			if len(late) != 1 || err != nil || r.LateAnchors != 1 {
				t.Fatalf("the rewrite was anchored by the starting replica with %d late-anchor events (verify: %v, late anchors %d); want one, reported",
					len(late), err, r.LateAnchors)
			}
		})
	}
}

// TestLateAnchorEventIsCoveredByTheStartCheckpoint: the audit.late_anchor event a starting
// replica appends is covered by the checkpoint it signs in the same check: removed and relinked
// afterwards by a store writer, the replica notices, or verify no longer accepts the trail
// without a warning.
// Guards against: checkpoint.go:Check signing over the head read before startTrust appended the
// event, which left it unanchored until the next checkpoint
func TestLateAnchorEventIsCoveredByTheStartCheckpoint(t *testing.T) {
	ctx := context.Background()
	tr := newRewrittenTrail(t, nil)
	bc := &clock{now: tr.t0.Add(2 * time.Hour)}
	b := tr.replica(bc)
	if wrote, err := b.Check(ctx); !wrote || err != nil {
		t.Fatalf("start: %v %v", wrote, err)
	}
	_, at := tr.lateAnchors()
	if len(at) != 1 {
		t.Fatalf("late anchors at %v, want one", at)
	}
	// Before the next checkpoint: the writer removes the late-anchor event and relinks.
	var hidden []audit.Event
	for i, e := range tr.list() {
		if i != at[0] {
			hidden = append(hidden, e)
		}
	}
	tr.replace(hidden)
	for range 3 {
		bc.Advance(time.Minute)
		if _, err := b.Check(ctx); err != nil {
			return // the replica noticed
		}
	}
	if r, err := tr.verify(bc.now.Add(time.Second)); err == nil && r.LateAnchors == 0 {
		t.Fatalf("the late-anchor event was removed and relinked after the start; the replica did not notice and verify accepts the trail with no warning (unanchored %d, events %d)",
			r.Unanchored, r.Events)
	}
}
