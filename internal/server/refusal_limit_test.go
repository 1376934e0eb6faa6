package server

import (
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/fakeclock"
)

// TestRefusalsOfOneKeyAreBounded: a key with no binding on prod asking again and again for a run
// of a prod stack (404 each) gets refusalsPerActor of them recorded in a minute, not more, so
// prod's own events stay in the trail; the next minute's first recorded refusal says how many
// were left out. Another key's refusals are recorded meanwhile.
func TestRefusalsOfOneKeyAreBounded(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	ts := startServer(t, serverOptions{now: clock.Now})
	prodRun := ts.createRun(t, "vpc-prod", "TRACKED")
	const asks = refusalsPerActor + 40
	ask := func(secret string, want int) {
		t.Helper()
		if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: secret, body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}}); code != want {
			t.Fatalf("ask: %d, want %d", code, want)
		}
	}
	for range asks {
		ask(limitedSecret, 404)
	}
	ask(auditorSecret, 403) // another key (it may not create runs): its refusal is its own
	clock.Advance(time.Minute)
	ask(limitedSecret, 404)

	var denied, notes, created, others int
	for _, e := range auditEvents(t, ts, "prod", 1000) {
		switch {
		case e.Actor == "api_key:dev-ci" && e.Outcome == "denied":
			denied++
			if strings.Contains(e.Detail, "40 further refusals of api_key:dev-ci in the 1m0s before were not recorded") {
				notes++
			}
		case e.Actor == "api_key:security" && e.Outcome == "denied":
			others++
		case e.Action == "run.create" && e.Run == prodRun.Run.ID:
			created++
		}
	}
	if denied != refusalsPerActor+1 || notes != 1 || others != 1 || created != 1 {
		t.Errorf("prod's trail: %d refusals of dev-ci (%d saying how many were left out), %d of security, %d creations of the run; want %d, 1, 1, 1",
			denied, notes, others, created, refusalsPerActor+1)
	}
}
