package api_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestFinishRacedEveryTimeTriesThreeTimes checks that a finish whose run another writer
// moves before every store attempt is tried exactly three times, each under its own run.finish
// event followed by an "error" event, and is then answered 409.
// Guards against: control.go:move tries again while attempt <= finishAttempts (four tries)
// Guards against: control.go:finishAttempts lowered to 2
func TestFinishRacedEveryTimeTriesThreeTimes(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	var mu sync.Mutex
	moves := 0
	h.flaky.set(nil, nil, func(id string) {
		mu.Lock()
		defer mu.Unlock()
		moves++
		_, err := h.store.Update(context.Background(), id, func(r runs.Run) (runs.Run, error) {
			p := runs.Applying
			if r.Phase == runs.Applying {
				p = runs.Planning
			}
			r.Phase, r.Scope = p, runs.ScopeOf(r.RunType, p)
			return r, nil
		})
		if err != nil {
			t.Errorf("the other writer's move: %v", err)
		}
	})
	path := "/v1/runs/" + run.Run.ID + "/finish"
	code, env := h.call(t, request{path: path, bearer: secretCreateUpdate})
	if code != http.StatusConflict {
		t.Fatalf("finish raced at every attempt: %d %s, want 409", code, env.Error.Message)
	}
	tried, failed := h.eventsOf("run.finish", "success"), h.eventsOf("run.finish", "error")
	if len(tried) != 3 || len(failed) != 3 {
		t.Errorf("run.finish events: %d success, %d error; want 3 and 3", len(tried), len(failed))
	}
	mu.Lock()
	defer mu.Unlock()
	if moves != 3 {
		t.Errorf("store attempts: %d, want 3", moves)
	}
}

// TestFinishRefusesAMalformedBody checks that POST /v1/runs/{id}/finish with a body that
// is not JSON is answered 400 and leaves the run in its phase.
// Guards against: control.go:finish ignores decodeBody's error
func TestFinishRefusesAMalformedBody(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	req, err := http.NewRequest("POST", h.url+"/v1/runs/"+run.Run.ID+"/finish",
		bytes.NewReader([]byte(`{not json`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secretCreateUpdate)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("finish with a malformed body: %d, want 400", resp.StatusCode)
	}
	if p := h.storedPhase(t, run.Run.ID); p != runs.Planning {
		t.Errorf("stored phase %s, want PLANNING", p)
	}
}

// TestRacedPhaseMoveIsNotTriedAgain checks that a phase move (not a finish) whose run
// another writer moved before it was stored is answered 409 and not applied from the phase the
// run moved to: only a finish is tried again.
// Guards against: control.go:move retries any raced move, not only a finish
func TestRacedPhaseMoveIsNotTriedAgain(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Initializing)
	h.flaky.set(nil, nil, func(id string) {
		h.flaky.set(nil, nil, nil) // once
		_, err := h.store.Update(context.Background(), id, func(r runs.Run) (runs.Run, error) {
			return r.MoveTo(runs.Planning)
		})
		if err != nil {
			t.Errorf("the other writer's move: %v", err)
		}
	})
	path := "/v1/runs/" + run.Run.ID + "/phase"
	body := map[string]string{"phase": "APPLYING"}
	if code, _ := h.call(t, request{path: path, bearer: secretCreateUpdate, body: body}); code !=
		http.StatusConflict {
		t.Errorf("phase move raced by another writer: %d, want 409", code)
	}
	if p := h.storedPhase(t, run.Run.ID); p != runs.Planning {
		t.Errorf("stored phase %s, want PLANNING (the other writer's)", p)
	}
}

// TestPhaseMoveOfAnEndedRunIsRecordedDenied: a run whose stack was deleted has ended; a move of
// it to another phase is answered 409 saying it can only be finished, is recorded in the trail
// as a denied run.phase naming the run, and leaves the stored phase as it was.
// Guards against: control.go:phase answers the refusal without recording it
func TestPhaseMoveOfAnEndedRunIsRecordedDenied(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	h.dropStack(t, "vpc-prod")
	path := "/v1/runs/" + run.Run.ID + "/phase"
	body := map[string]string{"phase": "APPLYING"}
	code, env := h.call(t, request{path: path, bearer: secretCreateUpdate, body: body})
	if code != http.StatusConflict || !strings.Contains(env.Error.Message, "can only be finished") {
		t.Fatalf("moving an ended run on: %d %q, want 409 saying it can only be finished",
			code, env.Error.Message)
	}
	denied := h.eventsOf("run.phase", "denied")
	if len(denied) != 1 || denied[0].Run.ID != run.Run.ID ||
		!strings.Contains(denied[0].Detail, "can only be finished") {
		t.Errorf("denied run.phase events %+v, want one for run %s saying why", denied, run.Run.ID)
	}
	if p := h.storedPhase(t, run.Run.ID); p != runs.Planning {
		t.Errorf("stored phase %s, want PLANNING", p)
	}
}

// TestFinishedRunIsWatched: a run finished through the control plane is handed to the
// FinishWatch, so that a store which goes back to before the finish (a failover to a replica
// that had not received it) has the run finished again at the watch's next check; a run this
// replica did not finish is left as the store holds it.
// Guards against: control.go:move does not tell the FinishWatch of a finish
func TestFinishedRunIsWatched(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{watchFinishes: true})
	finished := h.start(t, runs.Tracked, runs.Planning)
	other := h.start(t, runs.Tracked, runs.Planning)
	path := "/v1/runs/" + finished.Run.ID + "/finish"
	code, env := h.call(t, request{path: path, bearer: secretCreateUpdate})
	if code != http.StatusOK {
		t.Fatalf("finish: %d %s", code, env.Error.Message)
	}
	// The store goes back: the run is in its phase before the finish again.
	ctx := context.Background()
	if _, err := h.store.Update(ctx, finished.Run.ID, func(r runs.Run) (runs.Run, error) {
		r.Phase, r.Scope = runs.Planning, runs.ScopeOf(r.RunType, runs.Planning)
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	h.finished.Check(ctx)
	if p := h.storedPhase(t, finished.Run.ID); p != runs.Finished {
		t.Errorf("the finished run, after the store went back and a check: %s, want FINISHED", p)
	}
	if p := h.storedPhase(t, other.Run.ID); p != runs.Planning {
		t.Errorf("a run never finished, after a check: %s, want PLANNING", p)
	}
}

// TestFinishedAgainIsAudited: a run the FinishWatch finishes again, because the store went back
// to before its finish, is a stored change with its event: run.finish from the phase the store
// held, by system:finishwatch. A trail that refuses the event does not keep the run from being
// finished again: the finish takes its write token away.
func TestFinishedAgainIsAudited(t *testing.T) {
	for _, refused := range []error{nil, errors.New("the trail is down")} {
		h := newRunsHarnessWith(t, harnessOptions{watchFinishes: true})
		run := h.start(t, runs.Tracked, runs.Applying)
		path := "/v1/runs/" + run.Run.ID + "/finish"
		if code, env := h.call(t, request{path: path, bearer: secretCreateUpdate}); code != http.StatusOK {
			t.Fatalf("finish: %d %s", code, env.Error.Message)
		}
		ctx := context.Background()
		if _, err := h.store.Update(ctx, run.Run.ID, func(r runs.Run) (runs.Run, error) {
			r.Phase, r.Scope = runs.Applying, runs.Write
			return r, nil
		}); err != nil {
			t.Fatal(err)
		}
		before := len(h.eventsOf("run.finish", "success"))
		h.events.fail(refused)
		h.finished.Check(ctx)
		if p := h.storedPhase(t, run.Run.ID); p != runs.Finished {
			t.Errorf("trail refusing %v: stored phase after the check %s, want FINISHED", refused, p)
		}
		after := h.eventsOf("run.finish", "success")
		switch {
		case refused != nil && len(after) != before:
			t.Errorf("a refused event was kept: %+v", after[len(after)-1])
		case refused != nil:
		case len(after) != before+1:
			t.Errorf("run.finish events: %d before the check, %d after, want one more", before, len(after))
		default:
			e := after[len(after)-1]
			if e.Run.ID != run.Run.ID || e.Actor != "system:finishwatch" || e.Run.Phase != runs.Finished ||
				!strings.HasPrefix(e.Detail, "APPLYING -> FINISHED again") {
				t.Errorf("the event of the finish again: %+v", e)
			}
		}
	}
}
