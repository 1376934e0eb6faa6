package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/runs"
)

// TestRunOfOldPlaceHiddenFromNewPlace checks that a run started before its space took its
// place in the tree (prod moved under dev after the run began) reaches only the keys bound on
// root or on the spaces that moved with it: a key bound only on the new parent never had the
// run, so it neither reads nor finishes it, and is answered as for a run that does not exist,
// as GET /v1/audit hides the old place's events from it.
func TestRunOfOldPlaceHiddenFromNewPlace(t *testing.T) {
	for _, tc := range []struct {
		name, method, suffix, bearer string
		want                         int
	}{
		{"the new parent's key reads", "GET", "", secretDev, http.StatusNotFound},
		{"the new parent's key finishes", "POST", "/finish", secretDev, http.StatusNotFound},
		{"a key of the moved space reads", "GET", "", secretUpdate, http.StatusOK},
		{"a key of the moved space finishes", "POST", "/finish", secretUpdate, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Planning)
			objs := h.live.Load().Objects()
			for i := range objs.Spaces {
				if objs.Spaces[i].ID == "prod" {
					objs.Spaces[i].Parent = "dev"
				}
			}
			placed := run.Run.CreatedAt.Add(time.Second).UnixMilli()
			next, err := catalog.Build(catalog.Input{File: objs,
				FileCreated: map[catalog.Ref]int64{{Kind: catalog.KindSpace, ID: "prod"}: placed}})
			if err != nil {
				t.Fatal(err)
			}
			h.live.Store(next)
			path := "/v1/runs/" + run.Run.ID + tc.suffix
			code, env := h.call(t, request{method: tc.method, path: path, bearer: tc.bearer})
			if code != tc.want {
				t.Errorf("%s %s after prod moved under dev: %d %s, want %d",
					tc.method, path, code, env.Error.Message, tc.want)
			}
		})
	}
}
