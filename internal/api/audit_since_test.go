package api

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// TestAuditSinceKeepsFromCreation pins since(): events of a space id recorded before the space
// (re)creation are dropped, one recorded at exactly its creation time is kept, and one whose time
// does not parse is kept (never silently hidden from the auditor).
// Guards against: audit.go:90 !t.Before(created) -> t.After(created)
// Guards against: audit.go:90 err != nil || ... -> unparseable times dropped
func TestAuditSinceKeepsFromCreation(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	events := []audit.Event{
		{ID: "old", Time: created.Add(-time.Nanosecond).Format(time.RFC3339Nano)},
		{ID: "at", Time: created.Format(time.RFC3339Nano)},
		{ID: "after", Time: created.Add(time.Second).Format(time.RFC3339Nano)},
		{ID: "odd", Time: "not a time"},
	}
	orig := append([]audit.Event(nil), events...)
	got := since(events, created, func(string, string, time.Time) bool { return true })
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if want := []string{"at", "after", "odd"}; len(ids) != len(want) || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
		t.Errorf("since kept %v, want %v", ids, want)
	}
	for i := range orig {
		if events[i] != orig[i] {
			t.Fatalf("since changed its input at %d: %+v", i, events[i])
		}
	}
}
