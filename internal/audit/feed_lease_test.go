package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// leaseStep is one step of a lease scenario on a clock the test moves: at the clock's
// offset from the start, holder claims (for ttl), advances or releases sink, and expects ok
// (always true for a release).
type leaseStep struct {
	at     time.Duration
	op     string // "claim", "advance" or "release"
	sink   string
	holder string
	ttl    time.Duration
	ok     bool
}

// TestMemoryLeaseLastsExactlyItsTTL: a lease claimed (or renewed) at time t for ttl is held
// up to but not at t+ttl: until then no other holder takes it and its holder advances the
// cursor; from t+ttl on the holder advances nothing and another holder takes it. A renewal
// counts its ttl from the renewal. Leases are per sink: holding or releasing one sink's lease
// leaves another sink's as it was.
// Guards against: a lease lasting twice (or a millisecond longer than) its ttl in Claim.
// Guards against: a lease still held at exactly its end (Claim or Advance compares with After).
// Guards against: a renewal that keeps the old end; one lease shared by every sink.
// Guards against: Release dropping every lease of the holder, not only the sink's.
func TestMemoryLeaseLastsExactlyItsTTL(t *testing.T) {
	const ttl = 10 * time.Second
	tests := []struct {
		name  string
		steps []leaseStep
	}{
		{"held until its end, not at it", []leaseStep{
			{0, "claim", "s", "a", ttl, true},
			{ttl - time.Nanosecond, "claim", "s", "b", ttl, false},
			{ttl - time.Nanosecond, "advance", "s", "a", 0, true},
			{ttl, "advance", "s", "a", 0, false},
			{ttl, "claim", "s", "b", ttl, true},
			{ttl, "advance", "s", "b", 0, true},
			{ttl, "advance", "s", "a", 0, false},
		}},
		{"a lapsed lease advances nothing at its end", []leaseStep{
			{0, "claim", "s", "a", ttl, true},
			{ttl, "advance", "s", "a", 0, false},
		}},
		{"a renewal counts from the renewal", []leaseStep{
			{0, "claim", "s", "a", ttl, true},
			{ttl / 2, "claim", "s", "a", ttl, true},
			{ttl + ttl/4, "claim", "s", "b", ttl, false},
			{ttl + ttl/4, "advance", "s", "a", 0, true},
			{ttl + ttl/2, "advance", "s", "a", 0, false},
			{ttl + ttl/2, "claim", "s", "b", ttl, true},
		}},
		{"a short renewal shortens the lease", []leaseStep{
			{0, "claim", "s", "a", ttl, true},
			{time.Second, "claim", "s", "a", time.Second, true},
			{2 * time.Second, "claim", "s", "b", ttl, true},
		}},
		{"leases are per sink", []leaseStep{
			{0, "claim", "s1", "a", ttl, true},
			{0, "claim", "s2", "b", ttl, true},
			{time.Second, "advance", "s1", "a", 0, true},
			{time.Second, "advance", "s2", "b", 0, true},
			{time.Second, "advance", "s1", "b", 0, false},
			{time.Second, "claim", "s1", "b", ttl, false},
			{time.Second, "claim", "s2", "a", ttl, false},
		}},
		{"a release frees that sink's lease only", []leaseStep{
			{0, "claim", "s1", "a", ttl, true},
			{0, "claim", "s2", "a", ttl, true},
			{time.Second, "release", "s1", "a", 0, true},
			{time.Second, "claim", "s1", "b", ttl, true},
			{time.Second, "claim", "s2", "b", ttl, false},
			{time.Second, "advance", "s2", "a", 0, true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			clk := &clock{now: start}
			c := audit.NewMemoryCursors(clk.Now)
			for i, s := range tc.steps {
				clk.now = start.Add(s.at)
				got := doLeaseStep(t, c, s)
				if got != s.ok {
					t.Fatalf("step %d: %s %s by %s at +%v = %v, want %v",
						i, s.op, s.sink, s.holder, s.at, got, s.ok)
				}
			}
		})
	}
}

// doLeaseStep runs step s on c and reports whether it succeeded. An advance moves the cursor
// one past where it is; a successful advance must be read back, a refused one must change
// nothing.
func doLeaseStep(t *testing.T, c *audit.MemoryCursors, s leaseStep) bool {
	t.Helper()
	ctx := context.Background()
	switch s.op {
	case "release":
		if err := c.Release(ctx, s.sink, s.holder); err != nil {
			t.Fatal(err)
		}
		return true
	case "claim":
		ok, err := c.Claim(ctx, s.sink, s.holder, s.ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	before, err := c.Cursor(ctx, s.sink)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := c.Advance(ctx, s.sink, s.holder, audit.SinkCursor{Pos: before.Pos + 1})
	if err != nil {
		t.Fatal(err)
	}
	after, err := c.Cursor(ctx, s.sink)
	if err != nil {
		t.Fatal(err)
	}
	if want := before.Pos + map[bool]int64{true: 1}[ok]; after.Pos != want {
		t.Fatalf("advance by %s (ok %v): cursor %d -> %d, want %d", s.holder, ok, before.Pos, after.Pos, want)
	}
	return ok
}
