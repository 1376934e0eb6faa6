package audit_test

import (
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// The last checkpoint stays the chain's checkpoint after it fell behind the retention, so the
// next one follows it and is not due at once.
func TestMemoryKeepsTheLastCheckpointPastRetention(t *testing.T) {
	m := audit.NewMemoryRetaining(4)
	cp, ok, err := m.AppendCheckpoint(t.Context(), audit.Event{ID: "cp", Action: audit.CheckpointAction}, []string{"root"}, -1)
	if err != nil || !ok {
		t.Fatalf("AppendCheckpoint = %v, %v", ok, err)
	}
	for i := range 20 {
		if _, err := m.Append(t.Context(), audit.Event{ID: fmt.Sprint(i)}, []string{"root"}); err != nil {
			t.Fatal(err)
		}
	}
	if evs, from, _ := m.Range(t.Context(), 0, 100); from == 0 || len(evs) > 5 {
		t.Fatalf("Range(0) = %d events from %d, want at most 5 and the checkpoint dropped", len(evs), from)
	}
	head, err := m.Head(t.Context())
	if err != nil || head.Checkpoint == nil || *head.Checkpoint != cp || head.CheckpointAt != 0 || head.Count != 21 {
		t.Fatalf("Head = %+v, %v; want the checkpoint at 0 of 21", head, err)
	}
	if _, ok, _ := m.AppendCheckpoint(t.Context(), audit.Event{ID: "stale"}, []string{"root"}, -1); ok {
		t.Error("a checkpoint after none was appended although one exists")
	}
	if _, ok, _ := m.AppendCheckpoint(t.Context(), audit.Event{ID: "cp2"}, []string{"root"}, 0); !ok {
		t.Error("a checkpoint after the retained last one was refused")
	}
}
