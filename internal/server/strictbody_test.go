package server

import (
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestBodyKeysAreExact sends bodies whose keys differ from the contract's only in case, or
// repeat, to every endpoint with a body: encoding/json alone would take the last or the
// case-folded one (the first case created a TRACKED run from a body that also says PROPOSED).
func TestBodyKeysAreExact(t *testing.T) {
	ts := startServer(t, serverOptions{})
	store := ts.srv.state.runs.(*runs.Memory)
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	cases := []struct {
		name, path, bearer, body, want string
	}{
		{"case-variant run type", "/v1/runs", adminSecret, `{"stack":"vpc-prod","runType":"PROPOSED","RUNTYPE":"TRACKED"}`, `unknown field "RUNTYPE"`},
		{"duplicate run type", "/v1/runs", adminSecret, `{"stack":"vpc-prod","runType":"PROPOSED","runType":"TRACKED"}`, `duplicate field "runType"`},
		{"case-variant stack", "/v1/runs", adminSecret, `{"Stack":"vpc-prod","runType":"TRACKED"}`, `unknown field "Stack"`},
		{"folded stack", "/v1/runs", adminSecret, `{"ſtack":"vpc-prod","runType":"TRACKED"}`, `unknown field "\u017ftack"`},
		{"duplicate phase", "/v1/runs/" + run.Run.ID + "/phase", adminSecret, `{"phase":"PLANNING","phase":"APPLYING"}`, `duplicate field "phase"`},
		{"case-variant phase", "/v1/runs/" + run.Run.ID + "/phase", adminSecret, `{"PHASE":"APPLYING"}`, `unknown field "PHASE"`},
		{"case-variant audience", "/v1/token", run.RunToken, `{"audience":"a","AUDIENCE":"b"}`, `unknown field "AUDIENCE"`},
		{"duplicate provider", "/v1/credentials", run.RunToken, `{"provider":"aws","provider":"gcp"}`, `duplicate field "provider"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := store.Len()
			var env envelope
			if code := ts.call(t, apiRequest{method: "POST", path: tc.path, bearer: tc.bearer, body: tc.body, out: &env}); code != 400 {
				t.Fatalf("status %d, want 400", code)
			}
			if msg := env.Error.Message; !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not name the field (%s)", msg, tc.want)
			}
			if after := store.Len(); after != before {
				t.Errorf("runs stored: %d before, %d after a refused body", before, after)
			}
		})
	}
	var got runAnswer
	if code := ts.call(t, apiRequest{method: "GET", path: "/v1/runs/" + run.Run.ID, bearer: adminSecret, out: &got}); code != 200 || got.Run.Phase != "INITIALIZING" {
		t.Errorf("run after refused phase bodies: status %d, phase %q; want 200 INITIALIZING", code, got.Run.Phase)
	}
}
