package api

import (
	"context"

	"github.com/brokerhq/broker/internal/runs"
)

// Event is something the API did that belongs in the audit trail. It never holds a secret.
type Event struct {
	Actor       string
	Action      string
	Run         runs.Run
	Integration string
	// Outcome is "success" (the default when empty), "denied" or "error".
	Outcome string
	Detail  string
}

// Recorder receives events. The audit trail implements it; a nil Recorder records nothing.
type Recorder interface {
	Record(ctx context.Context, e Event)
}

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, Event) {}
