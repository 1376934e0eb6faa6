package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// TestCredentialsFailClosedOnAStaleCatalog: a worker plane whose catalog cannot be
// confirmed current (cut off from the catalog's store) hands out no credentials from the
// catalog it holds: 503 unavailable, on a run store that gives Versions and on one that gives
// none (a Redis Cluster), whose answers are checked by reading the run again.
func TestCredentialsFailClosedOnAStaleCatalog(t *testing.T) {
	for _, versionless := range []bool{false, true} {
		t.Run(fmt.Sprintf("versionless=%v", versionless), func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Applying)
			var store runs.Store = h.store
			if versionless {
				store = versionlessStore{Store: h.store}
			}
			var stale atomic.Bool
			rt := api.NewRouter()
			api.NewWorker(api.WorkerConfig{Store: store, Logger: slog.New(slog.DiscardHandler), Events: h.events,
				Catalog: h.live, Exchangers: map[string]exchange.Exchanger{"aws": fakeExchanger{}},
				Current: func(context.Context) error {
					if stale.Load() {
						return fmt.Errorf("%w: the catalog's store is out of reach", catalog.ErrUnavailable)
					}
					return nil
				}}).Mount(rt)
			srv := httptest.NewServer(rt)
			t.Cleanup(srv.Close)
			worker := &runsHarness{url: srv.URL, store: h.store, events: h.events, live: h.live}
			body := map[string]string{"provider": "aws"}
			if code, env := worker.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body}); code != http.StatusOK {
				t.Fatalf("credentials with the catalog current: %d %s", code, env.Error.Message)
			}
			stale.Store(true)
			if code, env := worker.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body}); code != http.StatusServiceUnavailable {
				t.Errorf("credentials with the catalog unconfirmed: %d %q, want 503 unavailable", code, env.Error.Code)
			}
		})
	}
}

// TestWorkerRefusesARunExpiredOnItsClock: a run's expiry is judged on the worker's own
// clock, whatever the store's clock says (a store whose clock lags still serves the run). At
// its ExpiresAt, and past it, a run in its write phase gets 401 for a token and for
// credentials, and nothing is handed out.
func TestWorkerRefusesARunExpiredOnItsClock(t *testing.T) {
	for _, past := range []time.Duration{0, time.Minute} {
		var at atomic.Pointer[time.Time]
		clock := func() time.Time {
			if p := at.Load(); p != nil {
				return *p
			}
			return time.Now()
		}
		h := newRunsHarnessWith(t, harnessOptions{workerNow: clock})
		run := h.start(t, runs.Tracked, runs.Applying)
		end := run.Run.ExpiresAt.Add(past)
		at.Store(&end)
		for _, c := range []struct {
			path string
			body any
		}{
			{"/v1/token", map[string]string{}},
			{"/v1/credentials", map[string]string{"provider": "aws"}},
		} {
			code, env := h.call(t, request{path: c.path, bearer: run.RunToken, body: c.body})
			if code != http.StatusUnauthorized || env.Error.Code != "unauthenticated" {
				t.Errorf("%s %s past the run's expiry on the worker's clock: %d %q, want 401 unauthenticated", c.path, past, code, env.Error.Code)
			}
		}
	}
}

// TestRunEndsWhenItsStackStandsInAnotherSpace: a run belongs to its stack in the space it
// started in. Once the catalog in force has the stack in another space, the run's token gets
// 401, also when nothing dates the stack's placement after the run's start (a catalog whose
// placement times do not order the move after the start, as at the edge of the clock-skew
// bounds): the new space's keys never allowed the run.
func TestRunEndsWhenItsStackStandsInAnotherSpace(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Applying)
	swapCatalog(t, h, func(o *catalog.Objects) {
		for i := range o.Stacks {
			if o.Stacks[i].ID == "vpc-prod" {
				o.Stacks[i].Space = "dev"
			}
		}
		o.Attachments = nil
	})
	if code, _ := h.call(t, request{path: "/v1/token", bearer: run.RunToken, body: map[string]string{}}); code != http.StatusUnauthorized {
		t.Errorf("a token for a run whose stack now stands in another space: %d, want 401", code)
	}
}

// TestTokenInTheRunsLastSecond: a run whose expiry falls within the current second can get
// no token (its exp, counted in whole seconds, would be now); the answer is 401 in the envelope,
// as for an expired run, never a 500.
func TestTokenInTheRunsLastSecond(t *testing.T) {
	now := time.Now()
	end := now.Truncate(time.Second) // exp would be this second: the issuer refuses it
	// The worker's clock says the run still has a millisecond to live.
	h := newRunsHarnessWith(t, harnessOptions{workerNow: func() time.Time { return end.Add(-time.Millisecond) }})
	run, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc-prod", Type: runs.Tracked,
		Phase: runs.Applying, Now: end.Add(-time.Hour), TTL: time.Hour, CreatedBy: "create-update"})
	if err != nil {
		t.Fatal(err)
	}
	h.flaky.plant(token, run) // the store's cache still holds it
	code, raw := h.rawCall(t, "/v1/token", token, map[string]string{})
	if code != http.StatusUnauthorized || !strings.Contains(string(raw), `"unauthenticated"`) {
		t.Errorf("POST /v1/token in the run's last second: %d %s, want 401 unauthenticated", code, raw)
	}
}

// TestTokenForARunThatKeepsChanging: when every token minted for a run is refused by the
// trail because the run changed since it was read, and the run's token still works, the answer
// is 409 conflict in the envelope, holding no token: never a 500.
func TestTokenForARunThatKeepsChanging(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	h.events.mu.Lock()
	h.events.before = func(e api.Event) error {
		if e.Action == "token.issue" && !e.Version.IsZero() {
			return runs.ErrChanged // the run changed again since each read
		}
		return nil
	}
	h.events.mu.Unlock()
	code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
	if code != http.StatusConflict || !strings.Contains(string(raw), `"conflict"`) {
		t.Errorf("POST /v1/token for a run that keeps changing: %d %s, want 409 conflict", code, raw)
	}
	if strings.Contains(string(raw), `"token"`) {
		t.Errorf("the refusal holds a token: %s", raw)
	}
}

// sendRaw POSTs body, as it is, to path with bearer, and returns the status and the error
// envelope's code.
func sendRaw(t *testing.T, h *runsHarness, path, bearer, body string) (int, string) {
	t.Helper()
	code, raw := h.rawSend(t, path, bearer, []byte(body))
	var env apiError
	_ = json.Unmarshal(raw, &env)
	return code, env.Error.Code
}

// TestBadInputIs400: a body that is not a whole JSON object, or a phase that is no phase
// at all, is bad input: 400 invalid_request in the envelope, and nothing is issued or moved.
func TestBadInputIs400(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	for _, body := range []string{"{", "{ ", "{}}"} {
		if code, ec := sendRaw(t, h, "/v1/token", run.RunToken, body); code != http.StatusBadRequest || ec != "invalid_request" {
			t.Errorf("POST /v1/token with body %q: %d %q, want 400 invalid_request", body, code, ec)
		}
	}
	for _, phase := range []string{"BOGUS", "applying", ""} {
		body := `{"phase":"` + phase + `"}`
		if code, ec := sendRaw(t, h, "/v1/runs/"+run.Run.ID+"/phase", secretCreateUpdate, body); code != http.StatusBadRequest || ec != "invalid_request" {
			t.Errorf("POST /v1/runs/{id}/phase with %s: %d %q, want 400 invalid_request", body, code, ec)
		}
	}
}

// TestCredentialsBadProviderIs400: a provider that is not aws, gcp, azure or vault, or one
// that is not the provider of the stack's own integration named with it, is bad input: 400
// invalid_request, not 404 (the stack's own integrations are no secret to its runs).
func TestCredentialsBadProviderIs400(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	for _, body := range []map[string]string{
		{"provider": "bogus"},
		{"provider": "AWS"},
		{"provider": "gcp", "integration": "aws-read"},
	} {
		code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body})
		if code != http.StatusBadRequest || env.Error.Code != "invalid_request" {
			t.Errorf("credentials %v: %d %q, want 400 invalid_request", body, code, env.Error.Code)
		}
	}
}
