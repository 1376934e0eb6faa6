package redisstore

import (
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestRefuseAllEndsTheBatch: when a checked batch's reply names every one of its events,
// the batch ends (no batch left), so the store's next round trip takes the queued events instead
// of sending an empty batch.
// Guards against: audit.go:refuseChanged drop "s.batch = nil" when none is kept
func TestRefuseAllEndsTheBatch(t *testing.T) {
	s := &auditStore{}
	for range 2 {
		s.batch = append(s.batch, &pendingEvent{check: runs.Version{ID: "r"}, done: make(chan appended, 1)})
	}
	if again := s.refuseChanged([]any{int64(1), int64(2)}); again || s.batch != nil {
		t.Errorf("refuseChanged of every event = %v, batch %v; want false and no batch", again, s.batch)
	}
}
