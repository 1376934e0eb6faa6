package api_test

import (
	"context"
	"crypto"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// TestCachedFinishedRunGets401WhenSigningFails: a finished run's token gets 401 for every worker
// call, even when its run comes from a cache (Redis) that holds it as before its finish and the
// key service fails: the run is read before the signer's failure is answered.
// Guards against: worker.go token answering the signer's 503 for a cached run without reading it.
func TestCachedFinishedRunGets401WhenSigningFails(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		t.Run(fmt.Sprintf("recordWhileSigning=%v", overlap), func(t *testing.T) {
			var down atomic.Bool
			h := newRunsHarnessWith(t, harnessOptions{recordWhileSigning: overlap, checkVersions: true,
				wrapSigner: func(s crypto.Signer) crypto.Signer {
					return stepSigner{Signer: s, step: func() error {
						if down.Load() {
							return fmt.Errorf("%w: the key service is down", keys.ErrUnavailable)
						}
						return nil
					}}
				}})
			run := h.start(t, runs.Tracked, runs.Planning)
			stored, err := h.store.Get(context.Background(), run.Run.ID)
			if err != nil {
				t.Fatal(err)
			}
			h.flaky.plant(run.RunToken, stored) // the cache holds the run live, in PLANNING
			if _, err := h.store.Update(context.Background(), run.Run.ID, func(r runs.Run) (runs.Run, error) { return r.MoveTo(runs.Finished) }); err != nil {
				t.Fatal(err)
			}
			down.Store(true)
			code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
			if code != http.StatusUnauthorized {
				t.Fatalf("POST /v1/token for a finished run (cached as live), key service down: %d %s, want 401", code, raw)
			}
		})
	}
}
