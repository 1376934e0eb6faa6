package api_test

import (
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// newProdSecret is the secret of the key recreateProd binds on the new prod.
const newProdSecret = "new-prod-key"

// recreateProd deletes prod as dropSpaceProd does, then creates a new space with the id
// prod, placed at placed (Unix milliseconds), and a key bound on it with role mover.
func recreateProd(t *testing.T, h *runsHarness, placed int64) {
	t.Helper()
	dropSpaceProd(t, h)
	objs := h.live.Load().Objects()
	objs.Spaces = append(objs.Spaces, config.Space{ID: "prod", Parent: config.RootSpace})
	objs.APIKeys = append(objs.APIKeys, config.APIKey{ID: "new-prod",
		SecretSHA256: config.HashAPIKeySecret(newProdSecret),
		Bindings:     []config.Binding{{Role: "mover", Space: "prod"}}})
	created := map[catalog.Ref]int64{{Kind: catalog.KindSpace, ID: "prod"}: placed}
	next, err := catalog.Build(catalog.Input{File: objs, FileCreated: created})
	if err != nil {
		t.Fatal(err)
	}
	h.live.Store(next)
}

// TestRunOfRecreatedSpaceHiddenFromItsKeys: a run whose space was deleted counts as
// root's (only a binding on root reaches it); a new space created later with the same id is
// another space, so a key bound only on the new one neither reads nor finishes the old
// space's run: "No run with id" (404), as before the id came back.
func TestRunOfRecreatedSpaceHiddenFromItsKeys(t *testing.T) {
	for _, tc := range []struct{ name, method, suffix string }{
		{"reads", "GET", ""},
		{"finishes", "POST", "/finish"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRunsHarness(t)
			run := h.start(t, runs.Tracked, runs.Planning)
			recreateProd(t, h, run.Run.CreatedAt.UnixMilli()+60_000)
			path := "/v1/runs/" + run.Run.ID + tc.suffix
			code, _ := h.call(t, request{method: tc.method, path: path, bearer: newProdSecret})
			if code != http.StatusNotFound {
				t.Errorf("%s %s by a key bound only on a new space prod, created after the "+
					"old prod (the run's) was deleted: %d, want 404", tc.method, path, code)
			}
		})
	}
}
