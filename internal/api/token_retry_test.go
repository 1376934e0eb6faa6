package api_test

import (
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// TestTokenMintsAtMostThreeTimesForAChangingRun checks that POST /v1/token, whose run's
// token event is refused as changed every time, mints and offers for recording exactly three
// tokens (the first and two more from the run read again), then answers 409 with no token.
// Guards against: worker.go:token retries while tries <= maxIssueTries (four tokens)
// Guards against: worker.go:maxIssueTries raised to 4
// Guards against: worker.go:maxIssueTries lowered to 2
func TestTokenMintsAtMostThreeTimesForAChangingRun(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	refused := refuseTokenEvents(h, func(e api.Event) bool { return !e.Version.IsZero() })
	code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
	if code != http.StatusConflict {
		t.Fatalf("POST /v1/token for a run changing at every record: %d %s, want 409", code, raw)
	}
	if n := refused(); n != 3 {
		t.Errorf("token.issue events offered with a Version: %d, want 3", n)
	}
}

// refuseTokenEvents makes h's trail refuse with runs.ErrChanged every token.issue event match
// takes, and returns a count of the events it has refused so far.
func refuseTokenEvents(h *runsHarness, match func(api.Event) bool) (refused func() int) {
	var n atomic.Int32
	h.events.mu.Lock()
	defer h.events.mu.Unlock()
	h.events.before = func(e api.Event) error {
		if e.Action != "token.issue" || !match(e) {
			return nil
		}
		n.Add(1)
		return runs.ErrChanged
	}
	return func() int { return int(n.Load()) }
}

// signerDownHarness is a runs harness recording each token's event while it is signed, whose
// signer fails every signature as a key service that is down does.
func signerDownHarness(t *testing.T) *runsHarness {
	t.Helper()
	down := fmt.Errorf("%w: the key service is down", keys.ErrUnavailable)
	return newRunsHarnessWith(t, harnessOptions{
		recordWhileSigning: true,
		wrapSigner: func(s crypto.Signer) crypto.Signer {
			return stepSigner{Signer: s, step: func() error { return down }}
		},
	})
}

// TestNotHandedOutEventIsUnconditional checks that, when a token's event was recorded
// while it was signed and the signature then failed, the follow-up "error" event saying the
// token was not handed out carries no Version: it is recorded whatever the stored run became,
// while the token's own event carries the Version of the run read.
// Guards against: worker.go:notHandedOut keeps the issued event's Version
func TestNotHandedOutEventIsUnconditional(t *testing.T) {
	h := signerDownHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
	if code == http.StatusOK {
		t.Fatalf("POST /v1/token with a failing signer: %d %s, want a failure", code, raw)
	}
	issued, failed := h.eventsOf("token.issue", "success"), h.eventsOf("token.issue", "error")
	if len(issued) != 1 || len(failed) != 1 {
		t.Fatalf("token.issue events: %d success, %d error; want one each",
			len(issued), len(failed))
	}
	if issued[0].Version.IsZero() {
		t.Fatalf("token.issue event %+v carries no Version, want the run's", issued[0])
	}
	if !failed[0].Version.IsZero() {
		t.Errorf("follow-up event carries Version %+v, want none", failed[0].Version)
	}
}

// TestNoFollowUpForATokenEventNeverRecorded checks that, when a token's event recorded
// while it was signed is refused and the signature fails too, no follow-up event is recorded:
// there is no recorded token event for it to correct.
// Guards against: worker.go:issue follows a failed signature up even when its event was not
// recorded
func TestNoFollowUpForATokenEventNeverRecorded(t *testing.T) {
	h := signerDownHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	h.events.mu.Lock()
	h.events.before = func(e api.Event) error {
		if e.Action == "token.issue" && e.Outcome == "" {
			return errors.New("trail unavailable")
		}
		return nil
	}
	h.events.mu.Unlock()
	code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
	if code == http.StatusOK {
		t.Fatalf("POST /v1/token with a failing signer and trail: %d %s, want a failure", code, raw)
	}
	if failed := h.eventsOf("token.issue", "error"); len(failed) != 0 {
		t.Errorf("follow-up events %+v for a token event never recorded, want none", failed)
	}
}
