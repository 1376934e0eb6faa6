package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// appendEvents appends n events alternating between spaces "a" and "b", so that no two events
// of one space are adjacent in the chain.
func appendEvents(t *testing.T, store audit.Store, n int) {
	t.Helper()
	for i := range n {
		sp := []string{"a", "b"}[i%2]
		e := audit.Event{ID: fmt.Sprintf("ev-%d", i), Time: time.Now().UTC().Format(time.RFC3339Nano),
			Actor: "tester", Action: "token.issue", Space: sp, Outcome: "success"}
		if _, err := store.Append(context.Background(), e, []string{sp}); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

// TestListZeroLimitKeepsCursor pins that a page of limit 0 is empty and hands the
// caller's cursor back unchanged, so the reader resumes where it was.
// Guards against: List treats limit 0 as a read (audit.go:List, `limit <= 0` -> `limit < 0`)
func TestListZeroLimitKeepsCursor(t *testing.T) {
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Audit()
	appendEvents(t, store, 4)
	got, next, err := store.List(context.Background(), "a", "1", 0)
	if err != nil || len(got) != 0 || next != "1" {
		t.Fatalf("List limit 0 from cursor 1 = %d events, %q, %v; want 0, \"1\", nil", len(got), next, err)
	}
}

// TestListFillsSparsePage pins that a page of a space whose events are scattered over the chain
// holds `limit` events when that many exist, even when that takes more than one bounded script
// call.
// Guards against: List stops after the first script call (audit.go:List, `covered == 0` -> `covered
// >= 0`)
func TestListFillsSparsePage(t *testing.T) {
	store := open(t, redistest.Start(t), uniquePrefix(), suiteTimeout).Audit()
	appendEvents(t, store, 90) // 45 events of "a", none adjacent
	got, next, err := store.List(context.Background(), "a", "", 40)
	if err != nil || len(got) != 40 || next != "40" {
		t.Fatalf("List of 40 = %d events, next %q, %v; want 40, \"40\", nil", len(got), next, err)
	}
	for i, e := range got {
		if want := fmt.Sprintf("ev-%d", 2*i); e.ID != want {
			t.Fatalf("event %d is %s, want %s", i, e.ID, want)
		}
	}
}
