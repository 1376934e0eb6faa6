package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// plant stores run as it is, however inconsistent, with a fresh token, and returns the token:
// what a damaged or hand-edited store holds.
func (h *runsHarness) plant(t *testing.T, edit func(*runs.Run)) (runs.Run, string) {
	t.Helper()
	run, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc-prod", Type: runs.Tracked, Phase: runs.Planning, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	edit(&run)
	if err := h.store.Create(context.Background(), run, runs.HashToken(token)); err != nil {
		t.Fatal(err)
	}
	return run, token
}

// TestWorkerRefusesInconsistentRecord: a run whose stored record contradicts the phase machine
// gets neither a token nor credentials (403 in the envelope, never a 500), and each refusal is
// in the trail as denied, saying why, with no secret.
func TestWorkerRefusesInconsistentRecord(t *testing.T) {
	h := newRunsHarness(t)
	edits := map[string]func(*runs.Run){
		"PROPOSED stored as write":   func(r *runs.Run) { r.RunType, r.Scope = runs.Proposed, runs.Write },
		"read phase stored as write": func(r *runs.Run) { r.Scope = runs.Write },
		"unknown run type":           func(r *runs.Run) { r.RunType = "ADMIN" },
		"unknown phase, write":       func(r *runs.Run) { r.Phase, r.Scope = "ROOT", runs.Write },
		"phase of another type":      func(r *runs.Run) { r.RunType, r.Phase, r.Scope = runs.Proposed, runs.Applying, runs.Write },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			run, token := h.plant(t, edit)
			before := len(h.events.all())
			var tok map[string]any
			if code, env := h.call(t, request{path: "/v1/token", bearer: token, body: map[string]string{}, out: &tok}); code != http.StatusForbidden {
				t.Errorf("POST /v1/token: %d %v %s, want 403", code, tok, env.Error.Message)
			} else if !strings.Contains(env.Error.Message, "inconsistent") {
				t.Errorf("POST /v1/token message %q does not say the record is inconsistent", env.Error.Message)
			}
			for _, named := range []string{"", "aws-write", "aws-read"} {
				var creds map[string]any
				body := map[string]string{"provider": "aws", "integration": named}
				if code, env := h.call(t, request{path: "/v1/credentials", bearer: token, body: body, out: &creds}); code != http.StatusForbidden {
					t.Errorf("POST /v1/credentials naming %q: %d %v %s, want 403", named, code, creds, env.Error.Message)
				}
			}
			events := h.events.all()[before:]
			if len(events) != 4 {
				t.Fatalf("%d events for 4 refusals: %+v", len(events), events)
			}
			for i, e := range events {
				want := "credentials.issue"
				if i == 0 {
					want = "token.issue"
				}
				if e.Action != want || e.Outcome != "denied" || e.Run.ID != run.ID || e.Integration != "" ||
					!strings.Contains(e.Detail, "inconsistent run record") || strings.Contains(e.Detail, token) {
					t.Errorf("event %d = %+v, want %s denied for run %s saying the record is inconsistent", i, e, want, run.ID)
				}
			}
		})
	}

	// The same store serves a consistent run: the refusals above are about the records.
	good := h.start(t, runs.Proposed, runs.Planning)
	if code, env := h.call(t, request{path: "/v1/token", bearer: good.RunToken, body: map[string]string{}}); code != http.StatusOK {
		t.Errorf("consistent run: POST /v1/token %d %s", code, env.Error.Message)
	}
	var creds struct {
		Integration string `json:"integration"`
		Scope       string `json:"scope"`
	}
	if code, env := h.call(t, request{path: "/v1/credentials", bearer: good.RunToken, body: map[string]string{"provider": "aws"}, out: &creds}); code != http.StatusOK ||
		creds.Integration != "aws-read" || creds.Scope != "read" {
		t.Errorf("consistent PROPOSED run: POST /v1/credentials %d %+v %s, want aws-read at read", code, creds, env.Error.Message)
	}
}
