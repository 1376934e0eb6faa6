package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/runs"
)

// The "error" event that follows a phase move whose compare-and-swap failed words it by the
// error: a runs store that did not answer may still have applied it with the reply lost (in a
// failover, say), so it is "not confirmed stored", as a run start is then; any other failure
// left the run as it was: "not applied". On the old code every failure said "not applied".
func TestPhaseMoveFailureWording(t *testing.T) {
	tests := []struct {
		name     string
		path     string // after /v1/runs/<id>
		body     any
		action   string
		err      error
		code     int
		want     string
		notWant  string
		wantFrom string // the move the event names
	}{
		{name: "runs store did not answer", path: "/phase", body: map[string]string{"phase": "APPLYING"}, action: "run.phase",
			err: fmt.Errorf("%w: i/o timeout", runs.ErrUnavailable), code: http.StatusServiceUnavailable,
			want: "not confirmed stored", notWant: "not applied", wantFrom: "PLANNING -> APPLYING"},
		{name: "runs store did not answer a finish", path: "/finish", action: "run.finish",
			err: fmt.Errorf("%w: failover in progress", runs.ErrUnavailable), code: http.StatusServiceUnavailable,
			want: "not confirmed stored", notWant: "not applied", wantFrom: "PLANNING -> FINISHED"},
		{name: "catalog store did not answer the re-check", path: "/phase", body: map[string]string{"phase": "APPLYING"}, action: "run.phase",
			err: fmt.Errorf("%w: the catalog could not be read", catalog.ErrUnavailable), code: http.StatusServiceUnavailable,
			want: "not applied", notWant: "not confirmed", wantFrom: "PLANNING -> APPLYING"},
		{name: "catalog re-check cut off by the client leaving", path: "/phase", body: map[string]string{"phase": "APPLYING"}, action: "run.phase",
			err: fmt.Errorf("%w: %w", catalog.ErrUnavailable, context.Canceled), code: http.StatusServiceUnavailable,
			want: "not applied", notWant: "not confirmed", wantFrom: "PLANNING -> APPLYING"},
		{name: "run moved meanwhile", path: "/phase", body: map[string]string{"phase": "APPLYING"}, action: "run.phase",
			err: fmt.Errorf("%w: the run moved from PLANNING to FINISHED meanwhile", runs.ErrTransition), code: http.StatusConflict,
			want: "not applied", notWant: "not confirmed", wantFrom: "PLANNING -> APPLYING"},
		{name: "run gone", path: "/phase", body: map[string]string{"phase": "APPLYING"}, action: "run.phase",
			err: fmt.Errorf("%w: expired", runs.ErrNotFound), code: http.StatusNotFound,
			want: "not applied", notWant: "not confirmed", wantFrom: "PLANNING -> APPLYING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Planning)
			h.flaky.set(nil, tt.err, nil)
			if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + tt.path, bearer: secretCreateUpdate, body: tt.body}); code != tt.code {
				t.Errorf("answer %d %s, want %d", code, env.Error.Message, tt.code)
			}
			errs := h.eventsOf(tt.action, "error")
			if len(errs) != 1 {
				t.Fatalf("%s error events %+v, want 1", tt.action, errs)
			}
			d := errs[0].Detail
			if !strings.HasPrefix(d, tt.wantFrom+" "+tt.want+": ") || strings.Contains(d, tt.notWant) || !strings.Contains(d, tt.err.Error()) {
				t.Errorf("%s error event detail %q, want %q then its cause %q, and no %q", tt.action, d, tt.wantFrom+" "+tt.want+": ", tt.err, tt.notWant)
			}
		})
	}
}
