package audittest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// Factory returns a fresh, empty Store; several calls may share a backend (replicas).
type Factory func(t *testing.T) (first, second audit.Store)

// TestStore checks: the first event's prev is empty; each prev is the hash of the event before
// it, also when two replicas append concurrently; listings are per space (subtree via the
// spaces given), oldest first, paged by cursor; a bad cursor is refused; Head reports the
// chain's length, tail and last checkpoint; of two checkpoints expecting the same last one,
// exactly one lands.
func TestStore(t *testing.T, newStores Factory) {
	ctx := context.Background()
	a, b := newStores(t)
	ev := func(i int, space string) audit.Event {
		return audit.Event{ID: fmt.Sprintf("ev-%03d", i), Time: "2026-01-01T00:00:00Z", Actor: "run:r", Action: "token.issue",
			Space: space, Stack: "s", Run: "r", Outcome: audit.Success, Detail: fmt.Sprintf("n=%d <&> é", i)}
	}
	if h, err := a.Head(ctx); err != nil || h.Count != 0 || h.Tail != "" || h.Checkpoint != nil {
		t.Fatalf("empty store head %+v, %v", h, err)
	}
	first, err := a.Append(ctx, ev(0, "prod"), []string{"prod", "root"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Prev != "" {
		t.Fatalf("first event prev %q, want empty", first.Prev)
	}
	// 40 appends from two replicas at once: one chain, no lost or forked link.
	var wg sync.WaitGroup
	for i := 1; i <= 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, space, path := a, "prod", []string{"prod", "root"}
			if i%2 == 0 {
				s, space, path = b, "dev", []string{"dev", "root"}
			}
			if _, err := s.Append(ctx, ev(i, space), path); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	var all []audit.Event
	cursor := ""
	for page := 0; ; page++ {
		events, next, err := b.List(ctx, "root", cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, events...)
		if next == "" {
			break
		}
		if page > 20 {
			t.Fatal("paging does not end")
		}
		cursor = next
	}
	if len(all) != 41 {
		t.Fatalf("root lists %d events, want 41", len(all))
	}
	if err := audit.Verify(all); err != nil {
		t.Fatalf("chain: %v", err)
	}
	if all[0].ID != "ev-000" {
		t.Errorf("oldest first: got %s", all[0].ID)
	}
	prod, _, err := a.List(ctx, "prod", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(prod) != 21 {
		t.Errorf("prod lists %d events, want 21", len(prod))
	}
	for _, e := range prod {
		if e.Space != "prod" {
			t.Errorf("prod listing holds an event of %s", e.Space)
		}
	}
	if events, next, err := a.List(ctx, "nowhere", "", 10); err != nil || len(events) != 0 || next != "" {
		t.Errorf("empty space: %v %q %v", events, next, err)
	}
	testHead(t, a, b, all)
	testCheckpointRace(t, a, b)
	if _, _, err := a.List(ctx, "root", "-3", 10); err == nil {
		t.Error("a negative cursor was accepted")
	}
	if _, _, err := a.List(ctx, "root", "abc", 10); err == nil {
		t.Error("a non-numeric cursor was accepted")
	}
	testNoCanonicalFormFailsAlone(t, a, b)
	testListLimit(t, a)
	testCursorsOfOneSpace(t, newStores)
}

// testCursorsOfOneSpace checks: a space's listing pages with the same cursors whether or not
// other spaces recorded events between its own, so a key that may list one space learns
// nothing from its cursors of how busy the others are.
func testCursorsOfOneSpace(t *testing.T, newStores Factory) {
	cursors := func(t *testing.T, spaces []string) []string {
		ctx := context.Background()
		s, _ := newStores(t)
		for i, sp := range spaces {
			e := audit.Event{ID: fmt.Sprintf("one-%d", i), Time: "2026-01-01T00:00:00Z", Action: "token.issue",
				Space: sp, Outcome: audit.Success}
			if _, err := s.Append(ctx, e, []string{sp, "root"}); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		for cursor := ""; ; {
			events, next, err := s.List(ctx, "prod", cursor, 1)
			if err != nil || len(events) != 1 {
				t.Fatalf("a page of prod after %q: %d events, %v", cursor, len(events), err)
			}
			if out = append(out, next); next == "" {
				return out
			}
			if cursor = next; len(out) > 3 {
				t.Fatal("paging does not end")
			}
		}
	}
	var alone, mixed []string
	t.Run("cursors alone", func(t *testing.T) { alone = cursors(t, []string{"prod", "prod", "prod"}) })
	t.Run("cursors among others", func(t *testing.T) {
		mixed = cursors(t, []string{"prod", "dev", "dev", "dev", "prod", "dev", "prod"})
	})
	if fmt.Sprint(alone) != fmt.Sprint(mixed) {
		t.Errorf("prod's cursors %q alone, %q with dev's events between: they count other spaces' events", alone, mixed)
	}
}

// testNoCanonicalFormFailsAlone appends events that have no canonical form (a field that is not
// valid UTF-8) among valid ones, from both replicas at once: each of those fails on its own,
// and every valid event lands, however the store groups appends.
func testNoCanonicalFormFailsAlone(t *testing.T, a, b audit.Store) {
	ctx := context.Background()
	before, err := a.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	var valid, invalid, lost atomic.Int64
	var wg sync.WaitGroup
	for i := range rounds {
		for j, s := range []audit.Store{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := audit.Event{ID: fmt.Sprintf("utf8-%03d-%d", i, j), Time: "2026-01-01T00:00:00Z", Actor: "api_key:k",
					Action: "space.put", Space: "prod", Outcome: audit.Success, Detail: "ok"}
				bad := j%2 == 1
				if bad {
					e.Action, e.Outcome = "PUT /v1/spaces/x\xffy", audit.Denied
				}
				_, err := s.Append(ctx, e, []string{"prod", "root"})
				switch {
				case bad && err == nil:
					invalid.Add(1)
				case !bad && err != nil:
					lost.Add(1)
					t.Errorf("a valid event failed beside one that has no canonical form: %v", err)
				case !bad:
					valid.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if n := invalid.Load(); n != 0 {
		t.Errorf("%d events that have no canonical form were appended", n)
	}
	after, err := b.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after.Count-before.Count, valid.Load(); got != want || lost.Load() != 0 {
		t.Errorf("the chain grew by %d events, want %d (%d valid events lost)", got, want, lost.Load())
	}
}

// testHead checks Head on a chain of the events all: its length and tail, seen from both
// replicas, and the last event appended under audit.CheckpointIndex.
func testHead(t *testing.T, a, b audit.Store, all []audit.Event) {
	ctx := context.Background()
	tail, err := audit.Hash(all[len(all)-1])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []audit.Store{a, b} {
		if h, err := s.Head(ctx); err != nil || h.Count != int64(len(all)) || h.Tail != tail || h.Checkpoint != nil {
			t.Errorf("head %+v, %v; want %d events ending %s and no checkpoint", h, err, len(all), tail)
		}
	}
	after := int64(-1)
	for i, want := range []int64{int64(len(all)), int64(len(all)) + 2} {
		cp := audit.Event{ID: fmt.Sprintf("cp-%d", i), Action: "audit.checkpoint", Space: "root", Detail: "x"}
		if _, ok, err := b.AppendCheckpoint(ctx, cp, []string{"root"}, after+1); ok || err != nil {
			t.Fatalf("checkpoint after a stale last checkpoint: appended %v, %v", ok, err)
		}
		stored, ok, err := b.AppendCheckpoint(ctx, cp, []string{"root"}, after)
		if err != nil || !ok {
			t.Fatalf("checkpoint %d: appended %v, %v", i, ok, err)
		}
		after = want
		if _, err := a.Append(ctx, audit.Event{ID: fmt.Sprintf("after-cp-%d", i), Space: "dev"}, []string{"dev", "root"}); err != nil {
			t.Fatal(err)
		}
		h, err := a.Head(ctx)
		if err != nil || h.Checkpoint == nil || *h.Checkpoint != stored || h.CheckpointAt != want || h.Count != want+2 {
			t.Errorf("head after a checkpoint at %d: %+v, %v", want, h, err)
		}
	}
}

// testCheckpointRace appends, from two replicas at once, checkpoints that both expect the same
// last checkpoint, amid other appends: exactly one of each pair lands, and the chain holds.
func testCheckpointRace(t *testing.T, a, b audit.Store) {
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		h, err := a.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var landed atomic.Int64
		for i, s := range []audit.Store{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i >= 2 {
					if _, err := s.Append(ctx, audit.Event{ID: fmt.Sprintf("r%d-%d", round, i), Space: "dev"}, []string{"dev", "root"}); err != nil {
						t.Error(err)
					}
					return
				}
				cp := audit.Event{ID: fmt.Sprintf("cp%d-%d", round, i), Action: "audit.checkpoint", Space: "root"}
				_, ok, err := s.AppendCheckpoint(ctx, cp, []string{"root"}, h.CheckpointAt)
				if err != nil {
					t.Error(err)
				}
				if ok {
					landed.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := landed.Load(); n != 1 {
			t.Fatalf("round %d: %d of two racing checkpoints landed, want 1", round, n)
		}
	}
	var all []audit.Event
	for cursor, pages := "", 1; ; pages++ {
		page, next, err := b.List(ctx, "root", cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if cursor = next; next == "" {
			break
		}
		if pages > 10 {
			t.Fatalf("paging does not end: %d pages of %d events", pages, len(all))
		}
	}
	if err := audit.Verify(all); err != nil {
		t.Errorf("chain after racing checkpoints: %v", err)
	}
	h, _ := b.Head(ctx)
	if h.Count != int64(len(all)) || all[h.CheckpointAt].ID != h.Checkpoint.ID {
		t.Errorf("head %+v after %d events", h, len(all))
	}
}

// testListLimit checks: a listing is bounded by its limit; a limit of 0 or below lists no
// events and fails nothing (never a panic).
func testListLimit(t *testing.T, s audit.Store) {
	ctx := context.Background()
	for i := range 3 {
		if _, err := s.Append(ctx, audit.Event{ID: "limit-" + string(rune('a'+i)), Space: "prod"}, []string{"prod", "root"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{0, -1, -100} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("List with limit %d panicked: %v", limit, p)
				}
			}()
			events, _, err := s.List(ctx, "root", "", limit)
			if err != nil || len(events) != 0 {
				t.Errorf("List with limit %d = %d events, %v; want none, no error", limit, len(events), err)
			}
		}()
	}
	if events, _, err := s.List(ctx, "root", "", 2); err != nil || len(events) != 2 {
		t.Errorf("List with limit 2 = %d events, %v; want 2", len(events), err)
	}
}
