package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// limitedHarness is newRunsHarnessWith, with the planes' events going through an
// api.RefusalLimit of 60 per minute as in the server.
func limitedHarness(t *testing.T, opts harnessOptions) *runsHarness {
	t.Helper()
	opts.refusalsPerMinute = 60
	return newRunsHarnessWith(t, opts)
}

// exhaustRefusals makes the create-update key refused 60 times (a phase move backwards, 409,
// recorded as denied).
func exhaustRefusals(t *testing.T, h *runsHarness) {
	t.Helper()
	run := h.start(t, runs.Tracked, runs.Planning)
	for range 60 {
		if code, _ := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretCreateUpdate,
			body: map[string]string{"phase": "INITIALIZING"}}); code != http.StatusConflict {
			t.Fatalf("backwards move: %d, want 409", code)
		}
	}
}

// TestRefusalLimitKeepsNotStored: a run.create event is recorded before the run is stored; when
// the store then fails, the follow-up "not stored" is recorded also after the key's 60 refusals
// in the minute, so the trail never says a run was created that never was.
func TestRefusalLimitKeepsNotStored(t *testing.T) {
	h := limitedHarness(t, harnessOptions{})
	exhaustRefusals(t, h)
	h.flaky.set(errors.New("store down"), nil, nil)
	if code, _ := h.call(t, request{path: "/v1/runs", bearer: secretCreateUpdate,
		body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}}); code < 500 {
		t.Fatalf("create with the store failing: %d, want 5xx", code)
	}
	if n := len(h.eventsOf("run.create", "error")); n != 1 {
		t.Errorf("run.create error follow-ups in the trail: %d, want 1 (the trail holds a run.create success for a run never stored: %d successes)",
			n, len(h.eventsOf("run.create", "success")))
	}
}

// TestRefusalLimitKeepsNotApplied: a phase move is recorded before it is applied; when the store
// then refuses it, the follow-up "not applied" is recorded also past 60 refusals of the key in
// the minute, so the trail never says the run moved to APPLYING when it did not.
func TestRefusalLimitKeepsNotApplied(t *testing.T) {
	h := limitedHarness(t, harnessOptions{})
	run := h.start(t, runs.Tracked, runs.Planning)
	exhaustRefusals(t, h)
	h.flaky.set(nil, errors.New("store down"), nil)
	if code, _ := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/phase", bearer: secretCreateUpdate,
		body: map[string]string{"phase": "APPLYING"}}); code < 500 {
		t.Fatalf("move with the store failing: %d, want 5xx", code)
	}
	var applied, notApplied int
	for _, e := range h.events.all() {
		if e.Action == "run.phase" && e.Run.ID == run.Run.ID && strings.Contains(e.Detail, "APPLYING") {
			if e.Outcome == "error" {
				notApplied++
			} else {
				applied++
			}
		}
	}
	if applied != 1 || notApplied != 1 {
		t.Errorf("trail of the failed move PLANNING -> APPLYING: %d success, %d 'not applied' follow-ups; want 1 and 1", applied, notApplied)
	}
}

// TestRefusalLimitKeepsNotHandedOut: a token recorded as issued and then withheld (its stack
// deleted while it was signed) is followed by "not handed out", also for a worker that first made
// 60 denied credential requests (the write integration in a read phase).
func TestRefusalLimitKeepsNotHandedOut(t *testing.T) {
	g := newGatedSigner()
	h := limitedHarness(t, harnessOptions{wrapSigner: g.wrap, checkVersions: true})
	run := h.start(t, runs.Tracked, runs.Planning)
	for range 60 {
		if code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
			body: map[string]string{"provider": "aws", "integration": "aws-write"}}); code < 400 {
			t.Fatalf("write integration in PLANNING: %d, want a refusal", code)
		}
	}
	if n := len(h.eventsOf("credentials.issue", "denied")); n != 60 {
		t.Fatalf("denied credential requests recorded: %d, want 60", n)
	}
	code, _ := tokenWhileSigning(t, h, run, g, func() {
		h.dropStack(t, "vpc-prod")
	})
	if code != http.StatusUnauthorized {
		t.Fatalf("token: %d, want 401", code)
	}
	events := h.events.all()
	last := events[len(events)-1]
	if last.Action != "token.issue" || last.Outcome != "denied" || !strings.Contains(last.Detail, "not handed out") {
		t.Errorf("the trail ends with %s %q %q: the token is recorded as issued, its 'not handed out' follow-up dropped", last.Action, last.Outcome, last.Detail)
	}
}

// cloudRefuses presents a broker ID token to the "cloud", which refuses it.
type cloudRefuses struct{}

func (cloudRefuses) Exchange(ctx context.Context, req exchange.Request) (exchange.Credentials, error) {
	if _, err := req.Tokens.Token(ctx, exchange.TokenRequest{Audience: "sts.amazonaws.com"}); err != nil {
		return exchange.Credentials{}, err
	}
	return exchange.Credentials{}, &exchange.UpstreamError{Provider: "aws", Status: 403, Code: "AccessDenied", Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"}
}

// TestRefusalLimitKeepsUpstreamErrors: an exchange the cloud refused (it was shown a broker
// token) is an error event, recorded also after the run's 60 denied requests in the minute.
func TestRefusalLimitKeepsUpstreamErrors(t *testing.T) {
	h := limitedHarness(t, harnessOptions{aws: cloudRefuses{}})
	run := h.start(t, runs.Tracked, runs.Planning)
	for range 60 {
		if code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
			body: map[string]string{"provider": "aws", "integration": "aws-write"}}); code < 400 || code == http.StatusBadGateway {
			t.Fatalf("write integration in PLANNING: %d, want a refusal", code)
		}
	}
	if code, _ := h.rawCall(t, "/v1/credentials", run.RunToken, map[string]string{"provider": "aws"}); code != http.StatusBadGateway {
		t.Fatalf("the cloud's refusal: %d, want 502", code)
	}
	if n := len(h.eventsOf("credentials.issue", "error")); n != 1 {
		t.Errorf("credentials.issue events with outcome error (the cloud refused a broker token it was shown): %d, want 1", n)
	}
}

// TestRefusalLimitKeepsInconsistentRecord: the refusal of a run record edited into an
// inconsistent state (a read phase stored as write), the trail's only trace of an edited store,
// is recorded also after the run's 60 denied requests in the minute.
func TestRefusalLimitKeepsInconsistentRecord(t *testing.T) {
	h := limitedHarness(t, harnessOptions{})
	run := h.start(t, runs.Tracked, runs.Planning)
	for range 60 {
		if code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
			body: map[string]string{"provider": "aws", "integration": "aws-write"}}); code < 400 {
			t.Fatalf("write integration in PLANNING: %d, want a refusal", code)
		}
	}
	if _, err := h.store.Update(context.Background(), run.Run.ID, func(r runs.Run) (runs.Run, error) {
		r.Scope = runs.Write // PLANNING stored as write: edited by hand
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}}); code != http.StatusForbidden {
		t.Fatalf("token for the edited record: %d, want 403", code)
	}
	var found bool
	for _, e := range h.events.all() {
		if e.Run.ID == run.Run.ID && e.Outcome == "denied" && strings.Contains(e.Detail, "inconsistent") {
			found = true
		}
	}
	if !found {
		t.Errorf("the refusal of the hand-edited run record is not in the trail")
	}
}
