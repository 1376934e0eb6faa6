package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestTokenFromCachedRun: POST /v1/token mints from the run the store's cache holds, and its
// event carries the cached run's Version. When the trail refuses that Version (the stored run
// changed), the token minted from the cache is not handed out: the run is read again and the
// answer is a token of the run as stored, with one event, carrying the Version of that read; a run finished
// meanwhile gets 401 and no token.issue event at all. The same holds whether the event is
// recorded after the signature or while it is computed (RecordWhileSigning).
func TestTokenFromCachedRun(t *testing.T) {
	for _, opts := range []harnessOptions{{}, {recordWhileSigning: true}} {
		t.Run(fmt.Sprintf("recordWhileSigning=%v", opts.recordWhileSigning), func(t *testing.T) { testTokenFromCachedRun(t, opts) })
	}
}

// testTokenFromCachedRun is TestTokenFromCachedRun on a harness made with opts.
func testTokenFromCachedRun(t *testing.T, opts harnessOptions) {
	for _, tc := range []struct {
		name       string
		stale      bool       // the trail refuses events with a Version of the cache
		finish     bool       // the stored run is finished before the request
		wantCode   int        // answer to POST /v1/token
		wantPhase  runs.Phase // the phase of the run in the one token.issue event; "" for none
		wantTagged bool       // that event carries a Version
	}{
		{"cached run current", false, false, http.StatusOK, runs.Planning, true},
		{"cached run stale", true, false, http.StatusOK, runs.Applying, true},
		{"cached run finished since", true, true, http.StatusUnauthorized, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarnessWith(t, opts)
			run := h.start(t, runs.Tracked, runs.Planning)
			stored, err := h.store.Get(context.Background(), run.Run.ID)
			if err != nil {
				t.Fatal(err)
			}
			h.flaky.plant(run.RunToken, stored) // the cache holds the run in PLANNING
			move := func(r runs.Run) (runs.Run, error) { return r.MoveTo(runs.Applying) }
			if tc.finish {
				move = func(r runs.Run) (runs.Run, error) { return r.MoveTo(runs.Finished) }
			}
			if _, err := h.store.Update(context.Background(), run.Run.ID, move); err != nil {
				t.Fatal(err)
			}
			h.events.mu.Lock()
			h.events.staleVersions = tc.stale
			h.events.mu.Unlock()

			code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
			if code != tc.wantCode {
				t.Fatalf("POST /v1/token: %d %s, want %d", code, raw, tc.wantCode)
			}
			got := h.eventsOf("token.issue", "success")
			if tc.wantPhase == "" {
				if len(got) != 0 {
					t.Fatalf("token.issue events %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("token.issue events %+v, want one", got)
			}
			if got[0].Run.Phase != tc.wantPhase || got[0].Version.IsZero() == tc.wantTagged {
				t.Errorf("event of a run in %s (Version %+v), want %s, tagged %v", got[0].Run.Phase, got[0].Version, tc.wantPhase, tc.wantTagged)
			}
		})
	}
}
