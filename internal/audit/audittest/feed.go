package audittest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// Feed is what an audit sink reads from a store: the chain by position, and two replicas'
// views of the sinks' cursors in that store.
type Feed struct {
	Store  audit.Store
	Reader audit.Reader
	// A and B share one set of cursors and leases (two replicas on one store).
	A, B audit.Cursors
}

// FeedFactory returns a fresh, empty Feed.
type FeedFactory func(t *testing.T) Feed

// TestFeed checks: Range reads the chain by position, oldest first, bounded by its limit, the
// same events as List; a cursor starts at 0, moves only forward and only for the lease's
// holder; one holder at a time; a lease is released, and expires after its ttl.
func TestFeed(t *testing.T, newFeed FeedFactory) {
	ctx := context.Background()
	f := newFeed(t)
	if evs, from, err := f.Reader.Range(ctx, 0, 10); err != nil || len(evs) != 0 || from != 0 {
		t.Fatalf("empty Range = %v, %d, %v", evs, from, err)
	}
	for i := range 7 {
		e := audit.Event{ID: fmt.Sprintf("ev-%d", i), Time: "2026-01-01T00:00:00Z", Action: "run.create", Space: "prod", Outcome: audit.Success}
		if _, err := f.Store.Append(ctx, e, []string{"prod", "root"}); err != nil {
			t.Fatal(err)
		}
	}
	listed, _, err := f.Store.List(ctx, "root", "", 100)
	if err != nil || len(listed) != 7 {
		t.Fatalf("List = %d events, %v", len(listed), err)
	}
	for _, tc := range []struct {
		from     int64
		limit    int
		from2    int64
		want     []audit.Event
		describe string
	}{
		{0, 3, 0, listed[:3], "first page"},
		{3, 3, 3, listed[3:6], "middle page"},
		{5, 10, 5, listed[5:], "last page, short"},
		{7, 10, 7, nil, "at the end"},
		{2, 0, 2, nil, "zero limit"},
	} {
		evs, from, err := f.Reader.Range(ctx, tc.from, tc.limit)
		if err != nil || from != tc.from2 || len(evs) != len(tc.want) || len(evs) > 0 && !reflect.DeepEqual(evs, tc.want) {
			t.Errorf("%s: Range(%d, %d) = %v, %d, %v; want %v", tc.describe, tc.from, tc.limit, evs, from, err, tc.want)
		}
	}
	if err := audit.Verify(listed); err != nil {
		t.Errorf("ranged chain does not verify: %v", err)
	}

	const sink, ttl = "webhook-1", 10 * time.Second
	// claim and advance are c.Claim and c.Advance for sink, failing the test on an error; they
	// report whether holder got (or kept) the lease and whether the cursor was saved.
	claim := func(c audit.Cursors, holder string, lease time.Duration) bool {
		t.Helper()
		ok, err := c.Claim(ctx, sink, holder, lease)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	advance := func(c audit.Cursors, holder string, pos int64) bool {
		t.Helper()
		ok, err := c.Advance(ctx, sink, holder, audit.SinkCursor{Pos: pos})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	cursor := func(c audit.Cursors) int64 {
		t.Helper()
		n, err := c.Cursor(ctx, sink)
		if err != nil {
			t.Fatal(err)
		}
		return n.Pos
	}
	if cursor(f.A) != 0 {
		t.Fatal("a new sink's cursor is not 0")
	}
	if advance(f.A, "a", 3) || cursor(f.B) != 0 {
		t.Fatal("advanced without the lease")
	}
	if !claim(f.A, "a", ttl) {
		t.Fatal("a could not take a free lease")
	}
	if !claim(f.A, "a", ttl) {
		t.Fatal("a could not renew its lease")
	}
	if claim(f.B, "b", ttl) {
		t.Fatal("b took a lease a holds")
	}
	if advance(f.B, "b", 9) || cursor(f.A) != 0 {
		t.Fatal("b advanced a cursor whose lease a holds")
	}
	if !advance(f.A, "a", 5) || cursor(f.B) != 5 {
		t.Fatal("the holder's cursor was not saved where the other replica reads it")
	}
	if !advance(f.A, "a", 2) || cursor(f.B) != 5 {
		t.Fatal("a cursor moved back")
	}
	if n, err := f.B.Cursor(ctx, "other"); err != nil || n.Pos != 0 {
		t.Fatalf("cursors are not per sink: %d, %v", n.Pos, err)
	}
	if err := f.B.Release(ctx, sink, "b"); err != nil || claim(f.B, "b", ttl) {
		t.Fatal("a non-holder's release freed the lease")
	}
	if err := f.A.Release(ctx, sink, "a"); err != nil || !claim(f.B, "b", ttl) {
		t.Fatal("a released lease could not be taken")
	}
	if advance(f.A, "a", 6) || cursor(f.A) != 5 {
		t.Fatal("a former holder advanced the cursor")
	}
	// Expiry: b's short lease lapses and a takes over without any release.
	if !claim(f.B, "b", 100*time.Millisecond) {
		t.Fatal("b could not renew")
	}
	time.Sleep(300 * time.Millisecond)
	if !claim(f.A, "a", ttl) {
		t.Fatal("an expired lease was not taken over")
	}
	if advance(f.B, "b", 7) || cursor(f.A) != 5 {
		t.Fatal("the holder of an expired lease advanced the cursor")
	}
	t.Run("a lapsed lease advances nothing", func(t *testing.T) { testLapsedLease(t, newFeed) })
	t.Run("marks and rewinds", func(t *testing.T) { testMarksAndRewind(t, newFeed) })
}

// testLapsedLease checks: once a holder's lease has lapsed, that holder cannot advance the
// cursor even though no other replica has claimed the lease since (it may be stalled, and a
// replica about to take over must find the cursor where the last live holder left it).
func testLapsedLease(t *testing.T, newFeed FeedFactory) {
	ctx := context.Background()
	f := newFeed(t)
	const sink = "lapsed-lease-sink"
	if ok, err := f.A.Claim(ctx, sink, "a", 100*time.Millisecond); err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	if ok, err := f.A.Advance(ctx, sink, "a", audit.SinkCursor{Pos: 2}); err != nil || !ok {
		t.Fatalf("Advance under the lease = %v, %v", ok, err)
	}
	time.Sleep(300 * time.Millisecond)
	if ok, err := f.A.Advance(ctx, sink, "a", audit.SinkCursor{Pos: 4}); err != nil || ok {
		t.Errorf("Advance after the lease lapsed = %v, %v; want refused", ok, err)
	}
	if n, err := f.B.Cursor(ctx, sink); err != nil || n.Pos != 2 {
		t.Errorf("cursor after a lapsed holder's advance = %d, %v; want 2", n.Pos, err)
	}
}

// testMarksAndRewind checks: a cursor's marks are saved with it and read back by the other
// replica; Rewind moves a cursor back (or keeps it) only for the lease's holder, never forward;
// Advance never moves it back.
func testMarksAndRewind(t *testing.T, newFeed FeedFactory) {
	ctx := context.Background()
	f := newFeed(t)
	const sink = "marked-sink"
	if ok, err := f.A.Claim(ctx, sink, "a", 10*time.Second); err != nil || !ok {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	at := func(pos int64) audit.SinkCursor {
		return audit.SinkCursor{Pos: pos, Marks: []audit.Mark{{Pos: pos - 1, Hash: fmt.Sprintf("h%d", pos-1)}, {Pos: 0, Hash: "h0"}}}
	}
	for _, step := range []struct {
		describe string
		save     func(context.Context, string, string, audit.SinkCursor) (bool, error)
		holder   string
		to       audit.SinkCursor
		ok       bool
		want     audit.SinkCursor
	}{
		{"advance with marks", f.A.Advance, "a", at(9), true, at(9)},
		{"advance back", f.A.Advance, "a", at(4), true, at(9)},
		{"rewind without the lease", f.B.Rewind, "b", at(4), false, at(9)},
		{"rewind", f.A.Rewind, "a", at(4), true, at(4)},
		{"rewind forward", f.A.Rewind, "a", at(6), true, at(4)},
		{"rewind to the start", f.A.Rewind, "a", audit.SinkCursor{}, true, audit.SinkCursor{}},
	} {
		ok, err := step.save(ctx, sink, step.holder, step.to)
		if err != nil || ok != step.ok {
			t.Fatalf("%s: = %v, %v; want %v", step.describe, ok, err, step.ok)
		}
		got, err := f.B.Cursor(ctx, sink)
		if err != nil || !reflect.DeepEqual(got, step.want) {
			t.Fatalf("%s: cursor %+v, %v; want %+v", step.describe, got, err, step.want)
		}
	}
}
