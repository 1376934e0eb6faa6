package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// errRecorderDown is what a failing recorder answers: a plain error, not one the store marks
// as unavailable, so the 503 comes from the rule rather than from the error's type.
var errRecorderDown = errors.New("audit recorder down")

// storedPhase is the phase the store holds for id.
func (h *runsHarness) storedPhase(t *testing.T, id string) runs.Phase {
	t.Helper()
	run, err := h.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return run.Phase
}

// TestPhaseChangeNeedsItsEvent: while the trail cannot record, a move, a finish and a start are
// answered 503 in the envelope and nothing is stored; once it records again, the same move
// succeeds with exactly one event.
func TestPhaseChangeNeedsItsEvent(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	h.events.fail(errRecorderDown)

	path := "/v1/runs/" + run.Run.ID
	if code, env := h.call(t, request{path: path + "/phase", bearer: secretCreateUpdate, body: map[string]string{"phase": "APPLYING"}}); code != http.StatusServiceUnavailable {
		t.Errorf("move while the trail is down: %d %s, want 503", code, env.Error.Message)
	}
	if p := h.storedPhase(t, run.Run.ID); p != runs.Planning {
		t.Errorf("stored phase after the unrecorded move: %s, want PLANNING", p)
	}
	if code, env := h.call(t, request{path: path + "/finish", bearer: secretCreateUpdate}); code != http.StatusServiceUnavailable {
		t.Errorf("finish while the trail is down: %d %s, want 503", code, env.Error.Message)
	}
	if _, err := h.store.GetByToken(context.Background(), runs.HashToken(run.RunToken)); err != nil {
		t.Errorf("run token after the unrecorded finish: %v, want it still live", err)
	}
	before := h.store.Len()
	body := map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}
	if code, env := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, body: body}); code != http.StatusServiceUnavailable {
		t.Errorf("start while the trail is down: %d %s, want 503", code, env.Error.Message)
	}
	if h.store.Len() != before {
		t.Error("a run was stored although its creation is not in the trail")
	}

	h.events.fail(nil)
	var moved started
	if code, env := h.call(t, request{path: path + "/phase", bearer: secretCreateUpdate, body: map[string]string{"phase": "APPLYING"}, out: &moved}); code != http.StatusOK || moved.Run.Phase != runs.Applying {
		t.Fatalf("move once the trail is back: %d %+v %s", code, moved.Run, env.Error.Message)
	}
	if got := h.eventsOf("run.phase", "success"); len(got) != 1 || got[0].Detail != "PLANNING -> APPLYING" || got[0].Run.Phase != runs.Applying {
		t.Errorf("run.phase events %+v, want the one applied move", got)
	}
}

// TestPhaseChangeNotStored: when the store fails after the move is recorded, the trail says
// the move was not confirmed stored (a store that did not answer may have applied it), and here,
// where it failed before applying, the stored phase is unchanged.
func TestPhaseChangeNotStored(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	h.flaky.set(nil, fmt.Errorf("%w: connection refused", runs.ErrUnavailable), nil)
	if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretCreateUpdate, body: map[string]string{"phase": "APPLYING"}}); code != http.StatusServiceUnavailable {
		t.Errorf("move on a failing store: %d %s, want 503", code, env.Error.Message)
	}
	if p := h.storedPhase(t, run.Run.ID); p != runs.Planning {
		t.Errorf("stored phase %s, want PLANNING", p)
	}
	errs := h.eventsOf("run.phase", "error")
	if len(errs) != 1 || !strings.Contains(errs[0].Detail, "PLANNING -> APPLYING not confirmed stored") {
		t.Errorf("error events %+v, want one saying the move was not confirmed stored", errs)
	}
}

// TestPhaseChangeRacedByAnother: a run that another writer moved between the load and the
// store is not moved again from a phase the recorded event does not name, so every stored
// change is the one its event says. A move toward another phase is refused (409). A finish,
// valid from every unfinished phase, is recorded again from where the other writer left the
// run and stored (200): a finish raced by a move to APPLYING leaves no run in a write phase
// whose tokens its caller meant to end. One raced by another finish answers the finished run
// (200), as a finish of a run found finished does; a move to FINISHED through the phase
// endpoint, which refuses a run found finished, is refused (409).
func TestPhaseChangeRacedByAnother(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		body       any
		other      runs.Phase
		code       int
		stored     runs.Phase
		action     string
		errDetail  string
		successes  []string
	}{
		{name: "finish raced by a move to APPLYING", path: "/finish", other: runs.Applying, code: http.StatusOK, stored: runs.Finished,
			action: "run.finish", errDetail: "PLANNING -> FINISHED not applied", successes: []string{"PLANNING -> FINISHED", "APPLYING -> FINISHED"}},
		{name: "finish raced by another finish", path: "/finish", other: runs.Finished, code: http.StatusOK, stored: runs.Finished,
			action: "run.finish", errDetail: "PLANNING -> FINISHED not applied", successes: []string{"PLANNING -> FINISHED"}},
		{name: "a move to FINISHED raced by a finish", path: "/phase", body: map[string]string{"phase": "FINISHED"}, other: runs.Finished, code: http.StatusConflict, stored: runs.Finished,
			action: "run.finish", errDetail: "PLANNING -> FINISHED not applied", successes: []string{"PLANNING -> FINISHED"}},
		{name: "move raced by a finish", path: "/phase", body: map[string]string{"phase": "APPLYING"}, other: runs.Finished, code: http.StatusConflict, stored: runs.Finished,
			action: "run.phase", errDetail: "PLANNING -> APPLYING not applied", successes: []string{"PLANNING -> APPLYING"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Planning)
			h.flaky.set(nil, nil, func(id string) {
				h.flaky.set(nil, nil, nil) // once
				if _, err := h.store.Update(context.Background(), id, func(r runs.Run) (runs.Run, error) { return r.MoveTo(tc.other) }); err != nil {
					t.Errorf("the other writer's move: %v", err)
				}
			})
			if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + tc.path, bearer: secretCreateUpdate, body: tc.body}); code != tc.code {
				t.Errorf("answer %d %s, want %d", code, env.Error.Message, tc.code)
			}
			if p := h.storedPhase(t, run.Run.ID); p != tc.stored {
				t.Errorf("stored phase %s, want %s", p, tc.stored)
			}
			if errs := h.eventsOf(tc.action, "error"); len(errs) != 1 || !strings.Contains(errs[0].Detail, tc.errDetail) {
				t.Errorf("%s error events %+v, want one saying %s", tc.action, errs, tc.errDetail)
			}
			var got []string
			for _, e := range h.eventsOf(tc.action, "success") {
				got = append(got, e.Detail)
			}
			if !slices.Equal(got, tc.successes) {
				t.Errorf("%s success events %q, want %q", tc.action, got, tc.successes)
			}
		})
	}
}

// TestUnexpectedStoreErrorIsEnveloped: a store error of no known kind is a 500 in the envelope,
// its cause kept out of the answer, and the start it failed is in the trail as not stored.
func TestUnexpectedStoreErrorIsEnveloped(t *testing.T) {
	h := newRunsHarness(t)
	h.flaky.set(errors.New("disk on fire at /var/lib/x"), nil, nil)
	body := map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}
	code, env := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, body: body})
	if code != http.StatusInternalServerError || strings.Contains(env.Error.Message, "disk") {
		t.Errorf("start on a broken store: %d %q, want 500 revealing nothing", code, env.Error.Message)
	}
	if errs := h.eventsOf("run.create", "error"); len(errs) != 1 || !strings.Contains(errs[0].Detail, "not stored") {
		t.Errorf("run.create error events %+v, want one saying the run was not stored", errs)
	}
}

// TestUnconfirmedStartIsNotCalledUnstored: a start whose store write was not confirmed (the
// store unreachable or slow) may still land; its correction says so, and that the run token
// never left, rather than claiming the run was not stored.
func TestUnconfirmedStartIsNotCalledUnstored(t *testing.T) {
	h := newRunsHarness(t)
	h.flaky.set(fmt.Errorf("%w: i/o timeout", runs.ErrUnavailable), nil, nil)
	body := map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}
	if code, env := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate, body: body}); code != http.StatusServiceUnavailable {
		t.Errorf("start on an unreachable store: %d %q, want 503", code, env.Error.Message)
	}
	errs := h.eventsOf("run.create", "error")
	if len(errs) != 1 || strings.Contains(errs[0].Detail, "not stored") || !strings.Contains(errs[0].Detail, "not confirmed stored, and its run token was not handed out") {
		t.Errorf("run.create error events %+v, want one saying the run was not confirmed stored and its token not handed out", errs)
	}
}

// TestFinishRacedTwiceStillFinishes: a finish raced by a move at each of its first two tries
// (INITIALIZING to PLANNING, then to APPLYING) finishes the run from where the moves left it,
// under an event of each try, rather than leaving the run in the write phase.
func TestFinishRacedTwiceStillFinishes(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Initializing)
	races := []runs.Phase{runs.Planning, runs.Applying}
	h.flaky.set(nil, nil, func(id string) {
		if len(races) == 0 {
			return
		}
		to := races[0]
		races = races[1:]
		if _, err := h.store.Update(context.Background(), id, func(r runs.Run) (runs.Run, error) { return r.MoveTo(to) }); err != nil {
			t.Errorf("the other writer's move to %s: %v", to, err)
		}
	})
	if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/finish", bearer: secretCreateUpdate}); code != http.StatusOK {
		t.Fatalf("finish raced twice: %d %s, want 200", code, env.Error.Message)
	}
	if p := h.storedPhase(t, run.Run.ID); p != runs.Finished {
		t.Errorf("stored phase %s, want FINISHED", p)
	}
	var got []string
	for _, e := range h.eventsOf("run.finish", "success") {
		got = append(got, e.Detail)
	}
	if want := []string{"INITIALIZING -> FINISHED", "PLANNING -> FINISHED", "APPLYING -> FINISHED"}; !slices.Equal(got, want) {
		t.Errorf("run.finish success events %q, want %q", got, want)
	}
}
