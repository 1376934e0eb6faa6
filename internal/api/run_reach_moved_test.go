package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// prodPlace is where prod sits: under parent, with space extra added under dev when not
// empty, prod and extra placed at placed (Unix milliseconds; 0 for since start-up).
type prodPlace struct {
	parent, extra string
	placed        int64
}

// putProdAt puts in force the harness's objects with prod placed as tree says.
func putProdAt(t *testing.T, h *runsHarness, tree prodPlace) {
	t.Helper()
	objs := h.live.Load().Objects()
	for i := range objs.Spaces {
		if objs.Spaces[i].ID == "prod" {
			objs.Spaces[i].Parent = tree.parent
		}
	}
	created := map[catalog.Ref]int64{}
	if tree.extra != "" {
		objs.Spaces = append(objs.Spaces, config.Space{ID: tree.extra, Parent: "dev"})
		created[catalog.Ref{Kind: catalog.KindSpace, ID: tree.extra}] = tree.placed
	}
	if tree.placed != 0 {
		created[catalog.Ref{Kind: catalog.KindSpace, ID: "prod"}] = tree.placed
	}
	next, err := catalog.Build(catalog.Input{File: objs, FileCreated: created})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}

// TestRunReachKeepsUnmovedAncestor checks that a key bound on a space that was an ancestor of a
// run's space when the run began, and still is after the space moved within its subtree (prod
// under dev, then under dev/team), keeps reading and finishing the run: it always had the run,
// and its audit listing holds the run's events from before the move.
func TestRunReachKeepsUnmovedAncestor(t *testing.T) {
	for _, tc := range []struct{ name, method, suffix string }{
		{"reads", "GET", ""},
		{"finishes", "POST", "/finish"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarness(t)
			putProdAt(t, h, prodPlace{parent: "dev"})
			run := h.start(t, runs.Tracked, runs.Planning)
			path := "/v1/runs/" + run.Run.ID + tc.suffix
			if code, _ := h.call(t, request{method: "GET", path: "/v1/runs/" + run.Run.ID,
				bearer: secretDev}); code != http.StatusOK {
				t.Fatalf("dev's key before the move: %d, want 200", code)
			}
			placed := run.Run.CreatedAt.Add(time.Second).UnixMilli()
			putProdAt(t, h, prodPlace{parent: "team", extra: "team", placed: placed})
			code, env := h.call(t, request{method: tc.method, path: path, bearer: secretDev})
			if code != http.StatusOK {
				t.Errorf("%s %s by dev's key after prod moved from dev to dev/team: %d %s, "+
					"want 200", tc.method, path, code, env.Error.Message)
			}
		})
	}
}
