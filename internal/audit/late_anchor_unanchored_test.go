package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestLateAnchorEventIsCoveredByTheStartCheckpoint: the audit.late_anchor event a starting
// replica appends is covered by the checkpoint it signs in the same check: removed and relinked
// afterwards by a store writer, the trail no longer verifies.
// Guards against: checkpoint.go:Check signing over the head read before startTrust appended the
// event, which left it unanchored until the next checkpoint
func TestLateAnchorEventIsCoveredByTheStartCheckpoint(t *testing.T) {
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
	if len(events) != 15 || events[11].Action != audit.CheckpointAction {
		t.Fatalf("setup: %d events", len(events))
	}
	// The writer rewrites #8, removes the checkpoint covering it, relinks.
	var forged []audit.Event
	for i, e := range events {
		if i == 11 {
			continue
		}
		if i == 7 {
			e.Detail = "scope=write"
		}
		forged = append(forged, e)
	}
	relink(t, forged)
	audit.MemoryTamperer{M: m}.Replace(t, forged)

	bc := &clock{now: t0.Add(2 * time.Hour)}
	b := mk(bc)
	if wrote, err := b.Check(ctx); !wrote || err != nil {
		t.Fatalf("start: %v %v", wrote, err)
	}
	after := list()
	lateAt := -1
	for i, e := range after {
		if e.Action == audit.LateAnchorAction {
			lateAt = i
		}
	}
	if lateAt < 0 {
		t.Fatal("no late anchor recorded")
	}
	t.Logf("late anchor at position %d, checkpoint at %d; chain %d events", lateAt, len(after)-1, len(after))

	// Before the next checkpoint: the writer removes the late-anchor event and relinks.
	var hidden []audit.Event
	for i, e := range after {
		if i != lateAt {
			hidden = append(hidden, e)
		}
	}
	relink(t, hidden)
	audit.MemoryTamperer{M: m}.Replace(t, hidden)

	// The running replica goes on checking; later, verify.
	for i := 0; i < 3; i++ {
		bc.Advance(time.Minute)
		if _, err := b.Check(ctx); err != nil {
			t.Logf("replica noticed: %v", err)
			return
		}
	}
	r, err := audit.VerifyAnchored(list(), audit.AnchorConfig{Issuer: iss, Keys: s.published(), Now: bc.now.Add(time.Second)})
	if err == nil && r.LateAnchors == 0 {
		t.Fatalf("the late-anchor event was removed and relinked after the start; the replica did not notice and verify accepts the rewritten trail with no warning: err=%v late anchors=%d unanchored=%d events=%d", err, r.LateAnchors, r.Unanchored, r.Events)
	}
}
