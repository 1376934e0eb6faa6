package redisstore

import (
	"errors"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestRefuseChanged: the events a checked batch's reply names fail with runs.ErrChanged and the
// others go again; a reply naming none of them (out of range, not a number) fails the whole
// batch, which would otherwise be sent again, and refused again, for ever.
func TestRefuseChanged(t *testing.T) {
	tests := []struct {
		name    string
		batch   int
		nums    []any
		changed []bool // per event, whether it failed with ErrChanged
		again   bool
	}{
		{"one of three", 3, []any{int64(2)}, []bool{false, true, false}, true},
		{"the last", 3, []any{int64(3)}, []bool{false, false, true}, true},
		{"all", 2, []any{int64(1), int64(2)}, []bool{true, true}, false},
		{"one named twice", 2, []any{int64(1), int64(1)}, []bool{true, false}, true},
		{"none: out of range", 2, []any{int64(0), int64(3)}, nil, false},
		{"none: not a number", 2, []any{"1"}, nil, false},
		{"none: empty", 2, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &auditStore{}
			events := make([]*pendingEvent, tt.batch)
			for i := range events {
				events[i] = &pendingEvent{check: runs.Version{ID: "r"}, done: make(chan appended, 1)}
			}
			s.batch = append([]*pendingEvent(nil), events...)
			if again := s.refuseChanged(tt.nums); again != tt.again {
				t.Errorf("refuseChanged = %v, want %v", again, tt.again)
			}
			for i, p := range events {
				var got *appended
				select {
				case a := <-p.done:
					got = &a
				default:
				}
				switch {
				case tt.changed == nil && (got == nil || got.err == nil || errors.Is(got.err, runs.ErrChanged)):
					t.Errorf("event %d: %+v, want the batch failed as an unexpected reply", i+1, got)
				case tt.changed != nil && tt.changed[i] && (got == nil || !errors.Is(got.err, runs.ErrChanged)):
					t.Errorf("event %d: %+v, want ErrChanged", i+1, got)
				case tt.changed != nil && !tt.changed[i] && got != nil:
					t.Errorf("event %d answered %+v, want it kept to go again", i+1, got)
				}
			}
			if kept := len(s.batch); tt.again && kept == 0 || !tt.again && kept != 0 {
				t.Errorf("%d events kept to go again; again = %v", kept, tt.again)
			}
		})
	}
}
