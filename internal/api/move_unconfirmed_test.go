package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestNotMovedDetailWhenCutOff: a move whose store call was cut off by the request's context
// (its client gone, or a deadline) may have been applied with the reply lost, like one the store
// did not answer: its error event says "not confirmed stored", never "not applied".
func TestNotMovedDetailWhenCutOff(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: i/o timeout", runs.ErrUnavailable), "not confirmed stored: "},
		{fmt.Errorf("redisstore: update: %w", context.Canceled), "not confirmed stored: "},
		{fmt.Errorf("redisstore: update: %w", context.DeadlineExceeded), "not confirmed stored: "},
		{fmt.Errorf("%w: moved meanwhile", runs.ErrTransition), "not applied: "},
		{errors.New("refused"), "not applied: "},
	} {
		if got := notMovedDetail(tc.err); !strings.HasPrefix(got, tc.want) {
			t.Errorf("notMovedDetail(%v) = %q, want it to begin %q", tc.err, got, tc.want)
		}
	}
}

// ctxRecorder is a Recorder that keeps whether the context it was given was already done.
type ctxRecorder struct{ done []bool }

func (r *ctxRecorder) Record(ctx context.Context, _ Event) error {
	r.done = append(r.done, ctx.Err() != nil)
	return ctx.Err()
}

// TestRecordAlwaysOutlivesTheClient: a correction is recorded even when the request's client
// went away meanwhile, since the event it corrects is in the trail either way.
func TestRecordAlwaysOutlivesTheClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := &ctxRecorder{}
	recordAlways(ctx, rec, slog.New(slog.NewTextHandler(io.Discard, nil)), Event{Action: "run.phase"})
	if len(rec.done) != 1 || rec.done[0] {
		t.Errorf("the correction was recorded with a done context (%v): a store call under it fails at once", rec.done)
	}
}
