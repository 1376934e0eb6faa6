package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestControlRefusalsAudited: every 401 and 403 of the control plane, and the 404 of a run in a
// space the key has no binding covering, is a denied event. A 403
// names the key, the action tried and the space (and run); a 401 names no actor, is filed under
// root and repeats nothing of the credential presented.
func TestControlRefusalsAudited(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	const presented = "brk_sekrit0123456789"
	cases := []struct {
		name, method, path, secret string
		body                       any
		status                     int
		action, actor, space       string
		run                        string
	}{
		// A stack in a space the key has no binding on is answered as if it did not exist.
		{"start in a space the key has no binding on", "POST", "/v1/runs", secretDev, map[string]string{"stack": "vpc-prod", "runType": "TRACKED"},
			404, "run.create", "api_key:dev", "prod", ""},
		{"start in APPLYING without run:update", "POST", "/v1/runs", secretCreate,
			map[string]string{"stack": "vpc-prod", "runType": "TRACKED", "phase": "APPLYING"}, 403, "run.create", "api_key:create", "prod", ""},
		// So is a run in such a space; the refusal is filed in the run's space.
		{"read a run of another space", "GET", "/v1/runs/" + run.Run.ID, secretDev, nil, 404, "run.read", "api_key:dev", "prod", run.Run.ID},
		{"move without run:update", "POST", "/v1/runs/" + run.Run.ID + "/phase", secretCreate, map[string]string{"phase": "APPLYING"},
			403, "run.phase", "api_key:create", "prod", run.Run.ID},
		{"finish without run:update", "POST", "/v1/runs/" + run.Run.ID + "/finish", secretCreate, nil,
			403, "run.finish", "api_key:create", "prod", run.Run.ID},
		{"audit without audit:read", "GET", "/v1/audit?space=prod", secretCreateUpdate, nil, 403, "audit.read", "api_key:create-update", "prod", ""},
		{"start with an unknown key", "POST", "/v1/runs", presented, map[string]string{"stack": "vpc-prod", "runType": "TRACKED"},
			401, "run.create", "unknown", "root", ""},
		{"start with no key", "POST", "/v1/runs", "", map[string]string{"stack": "vpc-prod", "runType": "TRACKED"},
			401, "run.create", "unknown", "root", ""},
		{"read with an unknown key", "GET", "/v1/runs/" + run.Run.ID, presented, nil, 401, "run.read", "unknown", "root", ""},
		{"move with an unknown key", "POST", "/v1/runs/" + run.Run.ID + "/phase", presented, map[string]string{"phase": "APPLYING"},
			401, "run.phase", "unknown", "root", ""},
		{"finish with an unknown key", "POST", "/v1/runs/" + run.Run.ID + "/finish", presented, nil, 401, "run.finish", "unknown", "root", ""},
		{"audit with an unknown key", "GET", "/v1/audit?space=prod", presented, nil, 401, "audit.read", "unknown", "root", ""},
	}
	for _, tc := range cases {
		before := len(h.events.all())
		if code, env := h.call(t, request{method: tc.method, path: tc.path, bearer: tc.secret, body: tc.body}); code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, code, env.Error.Message, tc.status)
			continue
		}
		events := h.events.all()[before:]
		if len(events) != 1 {
			t.Errorf("%s: %d events recorded, want the one refusal: %+v", tc.name, len(events), events)
			continue
		}
		e := events[0]
		space := e.Run.Space
		if space == "" {
			space = e.Space
		}
		if e.Action != tc.action || e.Outcome != "denied" || e.Actor != tc.actor || space != tc.space || e.Run.ID != tc.run || e.Detail == "" {
			t.Errorf("%s: event %+v, want %s denied by %s in %s (run %q) with a detail", tc.name, e, tc.action, tc.actor, tc.space, tc.run)
		}
		if strings.Contains(e.Detail, "sekrit") || strings.Contains(e.Detail, "brk_") || strings.Contains(e.Actor, "sekrit") {
			t.Errorf("%s: event %+v repeats the presented credential", tc.name, e)
		}
	}
	if got, err := h.store.Get(t.Context(), run.Run.ID); err != nil || got.Phase != runs.Planning {
		t.Errorf("run after the refusals: %+v, %v; want it untouched in PLANNING", got, err)
	}
}

// TestWorkerAndMoveRefusalsAudited: a run naming an integration it may not use (403) and a
// refused phase move (409) are denied events.
func TestWorkerAndMoveRefusalsAudited(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)

	before := len(h.events.all())
	body := map[string]string{"provider": "aws", "integration": "aws-write"}
	if code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body}); code != http.StatusForbidden {
		t.Fatalf("read-phase run naming the write integration: %d %s, want 403", code, env.Error.Message)
	}
	events := h.events.all()[before:]
	if len(events) != 1 || events[0].Action != "credentials.issue" || events[0].Outcome != "denied" ||
		events[0].Integration != "aws-write" || events[0].Run.ID != run.Run.ID || !strings.Contains(events[0].Detail, "scope read") {
		t.Errorf("events %+v, want one credentials.issue denied naming aws-write and the read scope", events)
	}

	before = len(h.events.all())
	if code, env := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretCreateUpdate, body: map[string]string{"phase": "INITIALIZING"}}); code != http.StatusConflict {
		t.Fatalf("backwards move: %d %s, want 409", code, env.Error.Message)
	}
	events = h.events.all()[before:]
	if len(events) != 1 || events[0].Action != "run.phase" || events[0].Outcome != "denied" || events[0].Run.ID != run.Run.ID ||
		!strings.Contains(events[0].Detail, "PLANNING to INITIALIZING") {
		t.Errorf("events %+v, want one run.phase denied saying PLANNING to INITIALIZING", events)
	}
}

// A listing asked for a space parameter that is no space id is a 400 that records nothing: a
// refusal would carry the parameter, whatever its size, into the trail.
func TestAuditListingOfNoSpaceIDRecordsNothing(t *testing.T) {
	h := newRunsHarness(t)
	junk := strings.Repeat("X", 20000)
	before := len(h.events.all())
	code, env := h.call(t, request{method: "GET", path: "/v1/audit?space=" + junk, bearer: secretCreateUpdate})
	if code != http.StatusBadRequest || strings.Contains(env.Error.Message, junk) {
		t.Errorf("GET /v1/audit with a 20,000-byte space: %d %.80q, want 400 not repeating it", code, env.Error.Message)
	}
	if events := h.events.all()[before:]; len(events) != 0 {
		t.Errorf("the listing recorded %d events, first %.120q", len(events), events[0].Space)
	}
}
