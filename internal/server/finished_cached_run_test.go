package server

import (
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestFinishedRunTokenGets401WhateverTheBody: a finished run's token gets 401 for every worker
// call, on either store. With Redis the replica keeps the runs it read by token in a cache that a
// finish does not reach; a request refused before a token is minted (a malformed body, an
// audience refused by its form or as a secret) must not be answered from that cache.
// Guards against: worker.go token answering a cached run's body and audience refusals (400)
// without reading the run, which had finished.
func TestFinishedRunTokenGets401WhateverTheBody(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			opts := serverOptions{}
			if store == "redis" {
				opts = serverOptions{redisURL: redistest.Start(t).URL(), keyBackend: "redis"}
			}
			ts := startServer(t, opts)
			run := ts.createRun(t, "vpc-prod", "TRACKED")
			if code := ts.setPhase(t, run.Run.ID, "APPLYING"); code != 200 {
				t.Fatalf("phase: %d", code)
			}
			// The replica reads the run by its token, and (Redis) caches it.
			if _, code := ts.mint(t, run.RunToken, "sts.amazonaws.com"); code != 200 {
				t.Fatalf("mint while APPLYING: %d", code)
			}
			if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret}); code != 200 {
				t.Fatalf("finish: %d", code)
			}
			for _, body := range []string{
				`{"audience":"brk_x"}`,               // an audience holding a broker secret's prefix
				`{"audience":"not an audience"}`,     // an audience refused by its form
				`{"audience":1}`,                     // a malformed body
				`{"audience":"` + adminSecret + `"}`, // an API key's secret
				`{"audience":"sts.amazonaws.com"}`,   // a good request
			} {
				var out envelope
				code := ts.call(t, apiRequest{method: "POST", path: "/v1/token", bearer: run.RunToken, body: body, out: &out})
				if code != 401 || out.Error.Code != "unauthenticated" {
					t.Errorf("POST /v1/token with the token of a finished run: %d %s %q, want 401 unauthenticated",
						code, out.Error.Code, out.Error.Message)
				}
			}
		})
	}
}
