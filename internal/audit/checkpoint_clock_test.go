package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestCheckpointWhenTheClockReadsBeforeTheLastOne: the last checkpoint carries a time after the
// checking replica's clock, because that clock stepped back 10 minutes (NTP step, VM restore) or
// because another replica's clock, 10 minutes ahead, dated it. Events after it are anchored
// within the interval (1m) all the same, and a quiet chain gets a checkpoint MaxAge (10m) after
// the replica found it, not an empty checkpoint at every check. The new checkpoint carries the
// replica's own time, even though that is before the last one's.
func TestCheckpointWhenTheClockReadsBeforeTheLastOne(t *testing.T) {
	type step struct {
		advance time.Duration
		want    bool
	}
	for _, tc := range []struct {
		name string
		// ahead: another replica whose clock reads this much ahead wrote the last checkpoint;
		// 0: this replica wrote it, then its clock stepped back 10 minutes.
		ahead  time.Duration
		events int // appended after it
		steps  []step
	}{
		{"clock stepped back, an event after", 0, 1, []step{{time.Minute, true}}},
		{"clock stepped back, nothing after", 0, 0, []step{{0, false}, {9 * time.Minute, false}, {time.Minute, true}}},
		{"dated by a clock ahead, an event after", 10 * time.Minute, 1, []step{{time.Minute, true}}},
		{"dated by a clock ahead, nothing after", 10 * time.Minute, 0, []step{{0, false}, {9 * time.Minute, false}, {time.Minute, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := audit.NewMemory()
			clk := &clock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
			cp := newCheckpointer(t, m, &fakeSign{}, clk)
			writer, wclk := cp, clk
			if tc.ahead > 0 {
				wclk = &clock{now: clk.now.Add(tc.ahead)}
				writer = newCheckpointer(t, m, &fakeSign{}, wclk)
			}
			appendN(t, writer, 1)
			wclk.Advance(time.Minute)
			if wrote, err := writer.Check(ctx); !wrote || err != nil {
				t.Fatalf("the last checkpoint: %v, %v", wrote, err)
			}
			if tc.ahead == 0 {
				clk.Advance(-10 * time.Minute)
			}
			appendN(t, cp, tc.events)
			for i, st := range tc.steps {
				clk.Advance(st.advance)
				before, _ := m.Head(ctx)
				wrote, err := cp.Check(ctx)
				if err != nil || wrote != st.want {
					t.Fatalf("check %d (clock moved on %s): checkpoint written %v, %v; want %v", i+1, st.advance, wrote, err, st.want)
				}
				if !wrote {
					continue
				}
				h, _ := m.Head(ctx)
				if c := claimOf(t, *h.Checkpoint); c.Count != before.Count || c.Tail != before.Tail || c.Time != clk.now.Format(time.RFC3339Nano) {
					t.Fatalf("claim %+v: want count %d, tail %s, time %s (this replica's)", c, before.Count, before.Tail, clk.now.Format(time.RFC3339Nano))
				}
			}
		})
	}
}

// TestCheckpointAfterTheClockStepsBackVerifies: a checkpoint written after the clock stepped back
// is dated before the one it follows; `broker audit verify` takes it as it is (neither rewritten
// nor forged) and finds every event anchored by it.
func TestCheckpointAfterTheClockStepsBackVerifies(t *testing.T) {
	r := newRollTrail(t)
	cp := r.replica(time.Minute, r.sign)
	r.add(cp, 3)
	r.clk.Advance(time.Minute)
	r.check(cp, true, "the first checkpoint")
	first := r.clk.now
	r.clk.Advance(-10 * time.Minute)
	r.add(cp, 2)
	r.clk.Advance(time.Minute)
	r.check(cp, true, "a minute after events that follow a step back of the clock")
	r.clk.Advance(3 * time.Minute)
	all, _, err := r.m.List(context.Background(), "root", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.VerifyAnchored(all, audit.AnchorConfig{Issuer: "https://broker.test", Keys: r.jwks, Now: r.clk.Now()})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Verified != 2 || rep.Anchored != 6 || rep.Unanchored != 0 {
		t.Fatalf("verified %d checkpoints, anchored %d events, %d unanchored; want 2, 6 (5 events and the first checkpoint), 0", rep.Verified, rep.Anchored, rep.Unanchored)
	}
	if at, _ := time.Parse(time.RFC3339Nano, rep.Latest.Claim.Time); !at.Before(first) {
		t.Fatalf("the latest checkpoint is dated %s, want before the first (%s): the clock stepped back", rep.Latest.Claim.Time, first.Format(time.RFC3339Nano))
	}
}

// TestNoExtraCheckpointForAReplicaSlightlyBehind: two replicas share one chain, b's clock 200 ms
// behind a's (within aheadSkew). a writes a checkpoint and an event follows on b moments later:
// nothing is due yet (1 event of every=5, the interval not passed), so b writes none.
func TestNoExtraCheckpointForAReplicaSlightlyBehind(t *testing.T) {
	ctx := context.Background()
	m := audit.NewMemory()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ca := &clock{now: t0}
	cb := &clock{now: t0.Add(-200 * time.Millisecond)}
	a := newCheckpointer(t, m, &fakeSign{}, ca)
	b := newCheckpointer(t, m, &fakeSign{}, cb)
	appendN(t, a, 1)
	ca.Advance(time.Minute)
	cb.Advance(time.Minute)
	if wrote, err := a.Check(ctx); !wrote || err != nil {
		t.Fatalf("a's checkpoint: %v %v", wrote, err)
	}
	ca.Advance(50 * time.Millisecond)
	cb.Advance(50 * time.Millisecond)
	appendN(t, b, 1)
	wrote, err := b.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wrote {
		t.Errorf("b (clock 200ms behind a) wrote a checkpoint 50ms after a's, for 1 event (every=5, interval=1m): an extra checkpoint in normal operation")
	}
}
